"""Everything about state written by durableagent 0.0.2b1: recognizing it, reading it, migrating it.

0.0.2b1 kept the whole conversation inside the entity state (``conversation_history``, no
``schema_version``) as ``ChatMessage.to_dict()`` / ``AgentRunResponse.to_dict()`` of an Agent
Framework beta whose serialization differs from today's ``Message``/``AgentResponse`` (roles as
``{"value": ...}`` objects, ``chat_message``/``agent_run_response`` type tags, ``usage_details``
objects). This module converts those dicts leniently, keeping text, tool calls, usage and the
per-message metadata (``timestamp``, ``correlation_id``), so an old session keeps its history
after an upgrade: on its first operation the history moves into the transcript store
(:func:`migrate`); until then a read shows it as it is (:func:`legacy_conversation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agent_framework import AgentResponse, Content, Message, UsageDetails
from durableagent_models import Conversation, HistoryEntry

from durableagent.conversation.base import SessionRef, TurnRecord, utc_now
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity.record import SessionRecord, is_legacy_state
from durableagent.entity.turn_io import new_correlation_id

__all__ = [
    "is_legacy_state",
    "legacy_conversation",
    "legacy_message",
    "legacy_response",
    "migrate",
    "turns_from_state",
]

if TYPE_CHECKING:
    from durableagent.entity.state import AgentState

_EPOCH = "1970-01-01T00:00:00Z"

_USAGE_KEYS = ("input_token_count", "output_token_count", "total_token_count")


def _role(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("value")
    return str(value or "user").lower()


def _content(data: Any) -> Content | None:
    if isinstance(data, str):
        return Content.from_text(data)
    if not isinstance(data, Mapping):
        return None
    kind = str(data.get("type", "")).replace("_content", "")
    if kind == "text":
        return Content.from_text(str(data.get("text", "")))
    if kind == "function_call":
        return Content.from_function_call(
            call_id=str(data.get("call_id", "")),
            name=str(data.get("name", "")),
            arguments=data.get("arguments"),
        )
    if kind == "function_result":
        return Content.from_function_result(call_id=str(data.get("call_id", "")), result=data.get("result"))
    return None


def _usage(data: Any) -> UsageDetails | None:
    if not isinstance(data, Mapping):
        return None
    values = {k: data[k] for k in _USAGE_KEYS if isinstance(data.get(k), int)}
    return UsageDetails(**values) if values else None  # type: ignore[typeddict-item]


def legacy_response(data: Mapping[str, Any]) -> AgentResponse:
    """An ``AgentResponse`` from a beta ``AgentRunResponse.to_dict()``."""
    messages = [legacy_message(m) for m in data.get("messages") or [] if isinstance(m, Mapping)]
    return AgentResponse(
        messages=messages,
        response_id=data.get("response_id"),
        usage_details=_usage(data.get("usage_details")),
    )


def legacy_message(data: Mapping[str, Any]) -> Message:
    """A ``Message`` from a beta ``ChatMessage.to_dict()`` (or today's form, which also parses)."""
    contents = [c for c in (_content(x) for x in data.get("contents") or []) if c is not None]
    if not contents and isinstance(data.get("text"), str):
        contents = [Content.from_text(data["text"])]
    props = dict(data.get("additional_properties") or {})
    response = props.get("agent_response")
    if isinstance(response, Mapping):
        props["agent_response"] = legacy_response(response).to_dict()
    return Message(
        role=_role(data.get("role")),
        contents=contents or [Content.from_text("")],
        author_name=data.get("author_name"),
        additional_properties=props,
    )


def _agent_state(state: Mapping[str, Any]) -> AgentState:
    from durableagent.entity.state import AgentState

    legacy = AgentState()
    legacy.restore_state(state)
    return legacy


def turns_from_state(state: AgentState) -> list[TurnRecord]:
    """Pair an ``AgentState``'s messages into transcript turns (user message + reply or error)."""
    turns: list[TurnRecord] = []
    for message in state.conversation_history:
        props = message.additional_properties
        if message.role in ("user", "system"):
            stamp = str(props.get("timestamp") or utc_now())
            user = {
                "type": "message",
                "role": message.role,
                "contents": [{"type": "text", "text": message.text}],
            }
            turns.append(
                TurnRecord(
                    turn=len(turns) + 1,
                    request_id=str(props.get("correlation_id") or new_correlation_id()),
                    role=message.role,
                    user=user,
                    reply=None,
                    value=None,
                    error=None,
                    started_at=stamp,
                    completed_at=stamp,
                )
            )
        elif message.role == "assistant" and turns and turns[-1].reply is None and turns[-1].error is None:
            response = props.get("agent_response")
            last = turns[-1]
            last.completed_at = str(props.get("timestamp") or last.started_at)
            if isinstance(props.get("error"), Mapping):
                last.error = dict(props["error"])
            else:
                last.reply = (
                    dict(response)
                    if isinstance(response, Mapping)
                    else AgentResponse(messages=[message]).to_dict()
                )
    return turns


async def migrate(
    state: Mapping[str, Any], agent: str, session: str, store: ConversationStore
) -> SessionRecord:
    """Move a 0.0.2b1 state's history into the transcript store; returns the session's new record."""
    legacy = _agent_state(state)
    record = SessionRecord.new(agent, session)
    ref = SessionRef(record.agent, session, record.incarnation)
    for turn in turns_from_state(legacy):
        await store.append_turn(ref, turn)
        record.turns = turn.turn
    record.last_response = legacy.last_response
    return record


def legacy_conversation(state: Mapping[str, Any], *, agent_type: str, session: str) -> Conversation:
    """The ``GET`` view of a session still in the 0.0.2b1 shape (not yet migrated by its entity)."""
    legacy = _agent_state(state)
    history = [
        HistoryEntry(
            role=message.role if message.role in ("user", "system") else "assistant",
            content=message.text,
            timestamp=str(message.additional_properties.get("timestamp") or _EPOCH),
        )
        for message in legacy.conversation_history
    ]
    return Conversation(
        message_count=legacy.message_count,
        conversation_history=history,
        last_response=legacy.last_response,
        agent_type=agent_type,
        sessionId=session,
        turn_count=legacy.message_count,
        next_before=None,
    )
