"""The session entity's operations behind a small seam: ``handle(operation, input, state, session)``.

This is what the Durable entity function calls (through ``durableagent.app``), and what unit
tests call directly: no Azure types cross it. State in, new state and result out; ``DELETE``
as the new state means the entity is deleted (reset).

Operations: ``run_agent`` (alias ``run``), ``get_state`` (the seed's conversation shape plus
``agent_type``), ``reset``. State written by 0.0.2b1 (no ``schema_version``) is migrated on first
touch: its history moves into the transcript store; an unknown version is refused, never wiped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from agent_framework import AgentResponse

from durableagent.conversation.base import SessionRef, TurnRecord
from durableagent.entity.operation import RunOperation, new_correlation_id
from durableagent.entity.record import SessionRecord, is_legacy_state
from durableagent.entity.state import AgentState, utc_now
from durableagent.entity.turn import TurnRunner

DELETE: Final = object()


class SessionEntity:
    """One agent's session entity: dispatches operations to the turn runner and the store."""

    def __init__(self, runner: TurnRunner, agent_type: str) -> None:
        self.runner = runner
        self.agent_type = agent_type

    async def handle(self, operation: str | None, input_: Any, state: Any, session: str) -> tuple[Any, Any]:
        name = (operation or "").lower()
        if name in ("run_agent", "run"):
            record = await self.load(state, session)
            new_record, result = await self.runner.run(record, session, RunOperation.from_input(input_))
            return new_record.to_state(), result
        if name == "get_state":
            record = await self.load(state, session)
            return (state if record is None else record.to_state()), await self.get_state(record)
        if name == "reset":
            await self.runner.store.drop_session(self.runner.reg.name, session)
            record = (
                await self.load(state, session) if state is not None and not is_legacy_state(state) else None
            )
            if record is not None:
                self.runner.cache.forget(SessionRef(record.agent, record.session, record.incarnation))
            return DELETE, {"status": "reset"}
        raise ValueError(f"Unknown operation {operation!r}; expected run_agent, get_state or reset")

    async def load(self, state: Any, session: str) -> SessionRecord | None:
        """The session's record, migrating 0.0.2b1 state into the transcript store."""
        if state is None:
            return None
        if not isinstance(state, Mapping):
            raise ValueError("entity state is not an object")
        if not is_legacy_state(state):
            return SessionRecord.from_state(state)
        legacy = AgentState()
        legacy.restore_state(state)
        record = SessionRecord.new(self.runner.reg.name, session)
        ref = SessionRef(record.agent, session, record.incarnation)
        for turn in turns_from_state(legacy):
            await self.runner.store.append_turn(ref, turn)
            record.turns = turn.turn
        record.last_response = legacy.last_response
        return record

    async def get_state(self, record: SessionRecord | None) -> dict[str, Any]:
        """The seed's ``get_state`` result: ``AgentState.get_state()`` plus ``agent_type``."""
        state = AgentState()
        if record is not None and record.turns:
            ref = SessionRef(record.agent, record.session, record.incarnation)
            for turn in await self.runner.store.load_turns(ref, 1, record.turns):
                state.add_user_message(
                    _text(turn.user), turn.request_id, turn.role, timestamp=turn.started_at
                )
                if turn.error is not None:
                    state.add_error(turn.error, correlation_id=turn.request_id, timestamp=turn.completed_at)
                elif turn.reply is not None:
                    response = AgentResponse.from_dict(turn.reply)
                    state.add_assistant_message(
                        response.text, response, correlation_id=turn.request_id, timestamp=turn.completed_at
                    )
        return {**state.get_state(), "agent_type": self.agent_type}


def _text(message: Mapping[str, Any]) -> str:
    return "".join(str(c.get("text", "")) for c in message.get("contents") or [] if c.get("type") == "text")


def turns_from_state(state: AgentState) -> list[TurnRecord]:
    """Pair an ``AgentState``'s messages into transcript turns (user message + reply or error)."""
    turns: list[TurnRecord] = []
    for message in state.conversation_history:
        props = message.additional_properties
        if message.role in ("user", "system"):
            stamp = str(props.get("timestamp") or utc_now())
            turns.append(
                TurnRecord(
                    turn=len(turns) + 1,
                    request_id=str(props.get("correlation_id") or new_correlation_id()),
                    role=message.role,
                    user={
                        "type": "message",
                        "role": message.role,
                        "contents": [{"type": "text", "text": message.text}],
                    },
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
