"""The session entity: its operations behind a small seam, and the function the entity trigger calls.

``SessionEntity.handle(operation, input, state, session)`` is the pure seam (state in, new state
and result out; :data:`DELETE` as the new state deletes the entity); unit tests call it directly.
:func:`entity_function` adapts the Durable SDK's entity context to it: the SDK calls entity
functions synchronously, on a worker thread, once per operation of a batch, so the adapter runs
the operation on the process-wide agent loop and blocks until it is done. Nothing here imports the
SDK: the context is typed by the few members the adapter uses.

Operations: ``run_agent`` (alias ``run``), ``get_state`` (the seed's conversation shape plus
``agent_type``), ``reset``. State written by 0.0.2b1 is migrated on first touch
(``entity.legacy``); an unknown version is refused, never wiped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from agent_framework import AgentResponse

from durableagent.conversation.base import SessionRef, text_of
from durableagent.entity import legacy
from durableagent.entity.loop import run_sync
from durableagent.entity.orchestration_result import ORCHESTRATION_KEY, agent_response_result
from durableagent.entity.record import SessionRecord
from durableagent.entity.state import AgentState
from durableagent.entity.turn import TurnRunner
from durableagent.entity.turn_io import RunOperation

DELETE: Final = object()
RESET_RESULT: Final = {"status": "reset"}


class EntityContext(Protocol):
    """What :func:`entity_function` uses of the SDK's ``DurableEntityContext``."""

    @property
    def operation_name(self) -> str | None:
        """The operation being run."""

    @property
    def entity_key(self) -> str:
        """The entity's key: the session."""

    def get_input(self) -> Any:
        """The operation's input (raises ``TypeError`` when it has none)."""

    def get_state(self, initializer: Callable[[], Any] | None = None) -> Any:
        """The entity's current state."""

    def set_state(self, state: Any) -> None:
        """Replace the entity's state."""

    def set_result(self, result: Any) -> None:
        """Set the operation's result."""

    def destruct_on_exit(self) -> None:
        """Delete the entity once the operation ends."""


class SessionEntity:
    """One agent's session entity: dispatches operations to the turn runner and the store."""

    def __init__(self, runner: TurnRunner, agent_type: str) -> None:
        """Run turns with ``runner``; ``agent_type`` is reported by ``get_state``."""
        self.runner = runner
        self.agent_type = agent_type

    async def handle(self, operation: str | None, input_: Any, state: Any, session: str) -> tuple[Any, Any]:
        """Apply one operation; returns ``(new state or DELETE, result)``.

        Raises:
            ValueError: an unknown operation, or state that is not a session record.
        """
        name = (operation or "").lower()
        if name in ("run_agent", "run"):
            record = await self.load(state, session)
            op = RunOperation.from_input(input_)
            new_record, entry = await self.runner.run(record, session, op)
            if isinstance(input_, dict) and isinstance(input_.get(ORCHESTRATION_KEY), str):
                # an orchestration's call (it names its instance): the whole AgentResponse
                result = await agent_response_result(self.runner.store, new_record, op.correlation_id, entry)
                return new_record.to_state(), result
            return new_record.to_state(), entry.to_json()
        if name == "get_state":
            record = await self.load(state, session)
            return (state if record is None else record.to_state()), await self.get_state(record)
        if name == "reset":
            await self.runner.store.drop_session(self.runner.reg.name, session)
            if isinstance(state, Mapping) and not legacy.is_legacy_state(state):
                record = SessionRecord.from_state(state)
                self.runner.cache.forget(SessionRef(record.agent, record.session, record.incarnation))
            return DELETE, RESET_RESULT
        raise ValueError(f"Unknown operation {operation!r}; expected run_agent, get_state or reset")

    async def load(self, state: Any, session: str) -> SessionRecord | None:
        """The session's record, migrating 0.0.2b1 state into the transcript store."""
        if state is None:
            return None
        if not isinstance(state, Mapping):
            raise ValueError("entity state is not an object")
        if legacy.is_legacy_state(state):
            return await legacy.migrate(state, self.runner.reg.name, session, self.runner.store)
        return SessionRecord.from_state(state)

    async def get_state(self, record: SessionRecord | None) -> dict[str, Any]:
        """The seed's ``get_state`` result: ``AgentState.get_state()`` plus ``agent_type``."""
        state = AgentState()
        if record is not None and record.turns:
            ref = SessionRef(record.agent, record.session, record.incarnation)
            for turn in await self.runner.store.load_turns(ref, 1, record.turns):
                state.add_user_message(
                    text_of(turn.user), turn.request_id, turn.role, timestamp=turn.started_at
                )
                if turn.error is not None:
                    state.add_error(turn.error, correlation_id=turn.request_id, timestamp=turn.completed_at)
                elif turn.reply is not None:
                    response = AgentResponse.from_dict(turn.reply)
                    state.add_assistant_message(
                        response.text, response, correlation_id=turn.request_id, timestamp=turn.completed_at
                    )
        return {**state.get_state(), "agent_type": self.agent_type}


def _operation_input(context: EntityContext) -> Any:
    """The operation's input; ``None`` when it has none (the SDK's ``get_input`` raises then)."""
    try:
        return context.get_input()
    except (TypeError, ValueError):  # no input (json.loads(None)) or an input that is not JSON
        return None


def entity_function(build: Callable[[], SessionEntity]) -> Callable[[EntityContext], None]:
    """The function registered with ``entity_trigger`` for one agent; ``build()`` runs on first use.

    The entity is built lazily because its conversation store is: store clients (an aiohttp
    session for Azure Tables) belong to the event loop that first uses them, the agent loop.
    """
    built: list[SessionEntity] = []

    def agent_entity(context: EntityContext) -> None:
        if not built:
            built.append(build())
        new_state, result = run_sync(
            built[0].handle(
                context.operation_name,
                _operation_input(context),
                context.get_state(lambda: None),
                context.entity_key,
            )
        )
        context.set_result(result)
        if new_state is DELETE:
            context.destruct_on_exit()
        else:
            context.set_state(new_state)

    return agent_entity
