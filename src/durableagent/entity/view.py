"""The public view of a conversation (``GET /agents/{name}/{sessionId}``), built from transcript records.

Works on the stored dicts (the framework's own ``to_dict()`` output) instead of rebuilding
``Message`` objects, so reading a long conversation costs one JSON decode per turn, and builds the
contract's generated models (``Conversation``, ``HistoryEntry``...), so the body is what openapi.yaml
says by construction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from durableagent_models import AgentResponseSummary, Conversation, HistoryEntry, ToolCall, TurnError, Usage

from durableagent.conversation.base import TurnRecord, text_of

_USAGE = (
    ("input_token_count", "prompt_tokens"),
    ("output_token_count", "completion_tokens"),
    ("total_token_count", "total_tokens"),
)


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _tool_calls(messages: Sequence[Mapping[str, Any]]) -> list[ToolCall]:
    calls: dict[str, dict[str, Any]] = {}
    for message in messages:
        for content in message.get("contents") or []:
            if not isinstance(content, Mapping):
                continue
            call_id = str(content.get("call_id") or "")
            if content.get("type") == "function_call":
                calls[call_id or f"#{len(calls)}"] = {
                    "call_id": call_id or None,
                    "name": str(content.get("name", "")),
                    "arguments": _maybe_json(content.get("arguments")),
                }
            elif content.get("type") == "function_result" and call_id in calls:
                calls[call_id]["result"] = _maybe_json(content.get("result"))
    return [ToolCall(**call) for call in calls.values()]


def _usage(reply: Mapping[str, Any]) -> Usage | None:
    details = reply.get("usage_details")
    if not isinstance(details, Mapping):
        return None
    return Usage(**{public: details.get(private) for private, public in _USAGE})


def agent_response_summary(record: TurnRecord) -> AgentResponseSummary:
    """The ``agent_response`` of an assistant entry: text, kind, tool calls, usage, and the full messages."""
    reply = record.reply or {}
    messages = [m for m in reply.get("messages") or [] if isinstance(m, Mapping)]
    final = [m for m in messages if m.get("role") == "assistant"]
    summary = AgentResponseSummary(
        text=text_of(final[-1]) if final else "",
        kind="structured" if record.value is not None else "agent_message",
        tool_calls=_tool_calls(messages),
        usage=_usage(reply),
        response_id=reply.get("response_id"),
        messages=messages,
    )
    if record.value is not None:
        summary.value = record.value
    return summary


def history_entries(records: Iterable[TurnRecord]) -> list[HistoryEntry]:
    """Two entries per turn: the user's message, then the reply (or the turn's error)."""
    entries: list[HistoryEntry] = []
    for record in records:
        entries.append(
            HistoryEntry(
                role=record.role,
                content=text_of(record.user),
                timestamp=record.started_at,
                correlationId=record.request_id,
                turn=record.turn,
            )
        )
        reply = HistoryEntry(
            role="assistant",
            content="",
            timestamp=record.completed_at,
            correlationId=record.request_id,
            turn=record.turn,
        )
        if record.error is not None:
            reply.error = TurnError(
                **{k: record.error[k] for k in ("type", "title", "status") if k in record.error}
            )
            if record.reply is not None:
                reply.agent_response = agent_response_summary(record)
        else:
            summary = agent_response_summary(record)
            reply.content = (
                json.dumps(record.value, ensure_ascii=False) if record.value is not None else summary.text
            )
            reply.agent_response = summary
        entries.append(reply)
    return entries


def conversation(
    records: Sequence[TurnRecord],
    *,
    turns: int,
    last_response: str | None,
    agent_type: str,
    session: str,
    next_before: int | None = None,
) -> Conversation:
    """The body of ``GET /agents/{name}/{sessionId}`` (seed shape, plus paging fields)."""
    return Conversation(
        message_count=turns,
        conversation_history=history_entries(records),
        last_response=last_response,
        agent_type=agent_type,
        sessionId=session,
        turn_count=turns,
        next_before=next_before,
    )
