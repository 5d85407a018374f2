"""The session entity: its operations behind a small seam, and the function the entity trigger calls.

``SessionEntity.handle(operation, input, state, session)`` is the pure seam (state in, new state
and result out; :data:`DELETE` as the new state deletes the entity); unit tests call it directly.
:func:`entity_function` adapts the Durable SDK's entity context to it: the SDK calls entity
functions synchronously, on a worker thread, once per operation of a batch, so the adapter runs
the operation on the process-wide agent loop and blocks until it is done. Nothing here imports the
SDK: the context is typed by the few members the adapter uses.

Operations: ``run_agent`` (alias ``run``), ``get_state`` (the seed's conversation shape plus
``agent_type``: ``entity.state``), ``reset`` (:func:`reset_session`), ``expire`` (delete the session
if it is idle past its TTL). State written by 0.0.2b1 is migrated on first touch
(``entity.legacy``); an unknown version is refused, never wiped.

Idle expiry, and why a sweep and not a scheduled signal: the natural primitive, an entity
signalling itself at its expiry time (what the .NET host does with scheduled self-signals), does not
exist for Python apps on the 1.x stack. azure-functions-durable 1.x has no ``signal_entity`` on
``DurableEntityContext`` and the client's ``DurableOrchestrationClient.signal_entity(entityId,
operation_name, operation_input, task_hub_name, connection_name)`` takes no scheduled time
(``models/DurableOrchestrationClient.py``); an entity's ``EntityState.signals`` is always empty
(``models/entities/EntityState.py``). A durable timer would need one orchestration per session,
re-armed by an event on every turn. So:

* after each operation that changed the record, the entity upserts its ``SessionSummary``
  (:func:`record_activity`; ``expires_at`` = ``updated_at`` plus the agent's TTL): one index write
  per turn, whatever the session's length;
* a timer function (``durableagent.sweep``) asks the store for summaries whose ``expires_at`` has
  passed (an index range, never a scan) and signals each entity ``expire``;
* ``expire`` runs in the entity, serialized with its turns, and deletes the session only if it is
  still idle by its own record (a turn queued before the signal wins); otherwise it corrects the
  summary. Both the index and the entity state are durable, so a restart loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final, Protocol

from durableagent.conversation.base import (
    SessionRef,
    SessionSummary,
    StoreUnavailableError,
    control_of,
    expiry_of,
    parse_time,
)
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity import legacy
from durableagent.entity.loop import run_sync
from durableagent.entity.orchestration_result import ORCHESTRATION_KEY, agent_response_result
from durableagent.entity.record import SessionRecord
from durableagent.entity.state import conversation_state
from durableagent.entity.turn import TurnRunner
from durableagent.entity.turn_io import RunOperation

logger = logging.getLogger("durableagent.expiry")
DELETE: Final = object()
RESET_RESULT: Final = {"status": "reset"}
EXPIRED_RESULT: Final = {"status": "expired"}
ACTIVE_RESULT: Final = {"status": "active"}


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
            if record is None or new_record.updated_at != record.updated_at:
                await record_activity(self.runner.store, new_record, self.runner.reg.session_ttl)
            if isinstance(input_, dict) and isinstance(input_.get(ORCHESTRATION_KEY), str):
                # an orchestration's call (it names its instance): the whole AgentResponse
                result = await agent_response_result(self.runner.store, new_record, op.correlation_id, entry)
                return new_record.to_state(), result
            return new_record.to_state(), entry.to_json()
        if name == "get_state":
            record = await self.load(state, session)
            return (state if record is None else record.to_state()), await self.get_state(record)
        if name == "reset":
            record = None
            if isinstance(state, Mapping) and not legacy.is_legacy_state(state):
                record = SessionRecord.from_state(state)
            await reset_session(self.runner.store, self.runner.reg.name, session, record)
            if record is not None:
                self.runner.cache.forget(SessionRef(record.agent, record.session, record.incarnation))
            return DELETE, RESET_RESULT
        if name == "expire":
            record = await self.load(state, session)
            if record is None or is_idle(record, self.runner.reg.session_ttl):
                await self.drop(state, session)
                return DELETE, EXPIRED_RESULT
            await record_activity(self.runner.store, record, self.runner.reg.session_ttl)  # correct it
            return record.to_state(), ACTIVE_RESULT
        raise ValueError(f"Unknown operation {operation!r}; expected run_agent, get_state, reset or expire")

    async def drop(self, state: Any, session: str) -> None:
        """Delete the session's transcript, ledger and summary, and forget its cached history."""
        await self.runner.store.drop_session(self.runner.reg.name, session)
        if isinstance(state, Mapping) and not legacy.is_legacy_state(state):
            record = SessionRecord.from_state(state)
            self.runner.cache.forget(SessionRef(record.agent, record.session, record.incarnation))

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
        return {**await conversation_state(self.runner.store, record), "agent_type": self.agent_type}


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


def summary_of(record: SessionRecord, ttl: timedelta | None) -> SessionSummary:
    """The index row of ``record`` under ``ttl``."""
    return SessionSummary(
        agent=record.agent,
        session=record.session,
        created_at=record.created_at,
        last_active_at=record.updated_at,
        turns=record.turns,
        expires_at=expiry_of(record.updated_at, ttl),
    )


def is_idle(record: SessionRecord, ttl: timedelta | None, now: datetime | None = None) -> bool:
    """Whether ``record`` has been idle for longer than ``ttl`` (never, without one)."""
    if ttl is None:
        return False
    return parse_time(record.updated_at) + ttl <= (now or datetime.now(timezone.utc))


async def record_activity(store: ConversationStore, record: SessionRecord, ttl: timedelta | None) -> None:
    """Upsert the session's summary; a store outage is logged, not raised.

    The turn is already written and its answer must reach the caller: a summary that could not be
    written is corrected by the session's next operation (or its next ``expire`` check).
    """
    try:
        await store.touch_session(summary_of(record, ttl))
    except StoreUnavailableError:
        logger.warning("session index of %s not updated (store unavailable)", record.agent)


async def reset_session(
    store: ConversationStore, agent: str, session: str, record: SessionRecord | None
) -> None:
    """Drop the session's transcript and ledger, leaving ``discarded`` marks on its requests.

    Marked: the request ids of the old record's ledger and of every ledger row (a turn accepted
    or running when the reset came). So a 202's ``Location`` answers ``410 turn-discarded`` after a
    reset instead of "accepted" for ever, and a request signalled before the reset that is
    delivered again never runs in the session's new life. A crash in between runs the reset again:
    the record is still the old one, so the marks come out the same.
    """
    control = control_of(store)
    ids = [
        *(record.requests if record is not None else ()),
        *(await control.request_ids(agent, session) if control else ()),
    ]
    await store.drop_session(agent, session)
    if control is not None:
        await control.replace_marks(agent, session, ids)
