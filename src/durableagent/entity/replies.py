"""The shapes a turn is reported in: the run result (HTTP 200 body) and stored problem records.

Both are built from a committed ``TurnRecord`` so that an idempotent replay, a ``Location`` poll
and the original response are byte-for-byte the same answer.
"""

from __future__ import annotations

import json
from typing import Any

from agent_framework import AgentResponse

from durableagent.contract.problems import Problem
from durableagent.conversation.base import TurnRecord


def reply_text(record: TurnRecord) -> str:
    """The reply as text: the structured value as JSON, else the response's text."""
    if record.value is not None:
        return json.dumps(record.value, ensure_ascii=False)
    if record.reply is None:
        return ""
    return AgentResponse.from_dict(record.reply).text


def run_result(record: TurnRecord, session: str, structured: bool) -> dict[str, Any]:
    """The 200 body of ``POST /agents/{name}/run`` for a successful turn (seed shape + aliases)."""
    return {
        "response": record.value if structured else reply_text(record),
        "message": _user_text(record),
        "sessionId": session,
        "status": "success",
        "message_count": record.turn,
        "correlationId": record.request_id,
        "session_id": session,
        "correlation_id": record.request_id,
        "turn": record.turn,
    }


def _user_text(record: TurnRecord) -> str:
    contents = record.user.get("contents") or []
    return "".join(
        str(c.get("text", "")) for c in contents if isinstance(c, dict) and c.get("type") == "text"
    )


def problem_record(problem: Problem) -> dict[str, Any]:
    """What the entity stores of a problem: stable fields only, never exception text."""
    return problem.to_record()
