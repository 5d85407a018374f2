"""The run result (the HTTP 200 body of a turn), built from a committed turn of the transcript.

Built from the ``TurnRecord`` so that an idempotent replay, a ``Location`` poll and the original
response are the same answer; typed by the contract's generated ``RunResult`` model, so a field
renamed in openapi.yaml breaks the type check here, not a client.
"""

from __future__ import annotations

import json

from agent_framework import AgentResponse
from durableagent_models import CorrelationId, RunResult, SessionId

from durableagent.conversation.base import TurnRecord, text_of


def reply_text(record: TurnRecord) -> str:
    """The reply as text: the structured value as JSON, else the response's text."""
    if record.value is not None:
        return json.dumps(record.value, ensure_ascii=False)
    if record.reply is None:
        return ""
    return AgentResponse.from_dict(record.reply).text


def run_result(record: TurnRecord, session: str, *, structured: bool) -> RunResult:
    """The 200 body of ``POST /agents/{name}/run`` for a successful turn (seed shape + aliases)."""
    session_id = SessionId(session)
    correlation_id = CorrelationId(record.request_id)
    return RunResult(
        response=record.value if structured else reply_text(record),
        message=text_of(record.user),
        sessionId=session_id,
        status="success",
        message_count=record.turn,
        correlationId=correlation_id,
        session_id=session_id,
        correlation_id=correlation_id,
        turn=record.turn,
    )
