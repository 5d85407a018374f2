"""``AgentState``: a session's conversation as Agent Framework ``Message``s and ``AgentResponse``s.

This is the seed's public state class, on today's types (``ChatMessage`` is now ``Message``,
``AgentRunResponse`` is ``AgentResponse``). Messages are stored with the framework's own
``to_dict()``/``from_dict()``; each assistant message carries the full agent response (tool calls,
usage) in ``additional_properties["agent_response"]``.

Versioning: ``get_state()`` writes ``schema_version`` 2. ``restore_state()`` migrates version-less
state (the 0.0.2b1 shape, whose messages used the beta's ``ChatMessage`` serialization) and refuses
any other version with :class:`UnsupportedStateVersionError` instead of wiping it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_framework import AgentResponse, Message

from durableagent.conversation.base import SessionRef, text_of, utc_now
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity.record import SessionRecord, UnsupportedStateVersionError

__all__ = ["STATE_SCHEMA_VERSION", "AgentState", "UnsupportedStateVersionError"]

STATE_SCHEMA_VERSION = 2


class AgentState:
    """The conversation of one session, in the framework's own types."""

    def __init__(self) -> None:
        """A session with no messages yet."""
        self.conversation_history: list[Message] = []
        self.last_response: str | None = None
        self.message_count = 0

    def add_user_message(
        self, content: str, correlation_id: str, role: str = "user", *, timestamp: str | None = None
    ) -> Message:
        """Append the user's (or an allowed ``system``) message of a turn."""
        self.message_count += 1
        message = Message(
            role=role,
            contents=[content],
            additional_properties={
                "timestamp": timestamp or utc_now(),
                "correlation_id": correlation_id,
                "turn": self.message_count,
            },
        )
        self.conversation_history.append(message)
        return message

    def add_assistant_message(
        self,
        content: str,
        agent_response: AgentResponse,
        *,
        correlation_id: str | None = None,
        timestamp: str | None = None,
    ) -> Message:
        """Append the agent's reply, keeping the whole ``AgentResponse`` with it."""
        message = Message(
            role="assistant",
            contents=[content],
            additional_properties={
                "timestamp": timestamp or utc_now(),
                "correlation_id": correlation_id,
                "turn": self.message_count,
                "agent_response": agent_response.to_dict(),
            },
        )
        self.conversation_history.append(message)
        self.last_response = content
        return message

    def add_error(
        self, problem: Mapping[str, Any], *, correlation_id: str, timestamp: str | None = None
    ) -> Message:
        """Record a failed turn: kept in history for readers, never sent to the model again."""
        message = Message(
            role="assistant",
            contents=[""],
            additional_properties={
                "timestamp": timestamp or utc_now(),
                "correlation_id": correlation_id,
                "turn": self.message_count,
                "error": {k: problem[k] for k in ("type", "title", "status") if k in problem},
            },
        )
        self.conversation_history.append(message)
        return message

    def get_state(self) -> dict[str, Any]:
        """The serialized state: messages through the framework's ``to_dict()``."""
        return {
            "schema_version": STATE_SCHEMA_VERSION,
            "conversation_history": [m.to_dict() for m in self.conversation_history],
            "last_response": self.last_response,
            "message_count": self.message_count,
        }

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Load a serialized state, migrating the version-less 0.0.2b1 shape."""
        version = state.get("schema_version", state.get("schemaVersion"))
        if version is None:
            from durableagent.entity.legacy import legacy_message  # legacy.py builds on this class

            history = [legacy_message(m) for m in state.get("conversation_history") or []]
        elif version in (STATE_SCHEMA_VERSION, str(STATE_SCHEMA_VERSION)):
            history = [Message.from_dict(m) for m in state.get("conversation_history") or []]
        else:
            raise UnsupportedStateVersionError(version)
        self.conversation_history = history
        self.message_count = sum(1 for m in history if m.role in ("user", "system"))
        replies = [m for m in history if m.role == "assistant" and not m.additional_properties.get("error")]
        self.last_response = state.get("last_response") or (replies[-1].text if replies else None)

    def reset(self) -> None:
        """Forget the whole conversation: no messages, no last response."""
        self.conversation_history = []
        self.last_response = None
        self.message_count = 0

    def model_messages(self) -> list[Message]:
        """What the model is sent: every turn except failed ones (their user message included)."""
        failed = {
            m.additional_properties.get("turn")
            for m in self.conversation_history
            if m.additional_properties.get("error")
        }
        out: list[Message] = []
        for message in self.conversation_history:
            if message.additional_properties.get("turn") in failed:
                continue
            response = message.additional_properties.get("agent_response")
            if message.role == "assistant" and isinstance(response, Mapping):
                out.extend(AgentResponse.from_dict(dict(response)).messages)
            else:
                out.append(message)
        return out


async def conversation_state(store: ConversationStore, record: SessionRecord | None) -> dict[str, Any]:
    """The seed's ``get_state`` result of a session: its transcript as ``AgentState.get_state()``."""
    state = AgentState()
    if record is not None and record.turns:
        ref = SessionRef(record.agent, record.session, record.incarnation)
        for turn in await store.load_turns(ref, 1, record.turns):
            state.add_user_message(text_of(turn.user), turn.request_id, turn.role, timestamp=turn.started_at)
            if turn.error is not None:
                state.add_error(turn.error, correlation_id=turn.request_id, timestamp=turn.completed_at)
            elif turn.reply is not None:
                response = AgentResponse.from_dict(turn.reply)
                state.add_assistant_message(
                    response.text, response, correlation_id=turn.request_id, timestamp=turn.completed_at
                )
    return state.get_state()
