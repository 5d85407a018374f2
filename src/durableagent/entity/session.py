"""The session entity: its operations behind a small seam, and the function the entity trigger calls.

``SessionEntity.handle(operation, input, state, session)`` is the pure seam (state in, new state
and result out; :data:`DELETE` as the new state deletes the entity); unit tests call it directly.
:func:`entity_function` is the entity trigger's ``async def`` function: it reads the batch
document itself (``turn_io.decode_request``) and runs the batch as a coroutine on the process-wide
agent loop (:func:`run_batch`), so no worker thread is held while a turn waits on its model.
Nothing here imports the SDK or azure.functions: the trigger's context is used only for its
``body``.

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

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Final

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
from durableagent.entity.loop import run_async
from durableagent.entity.orchestration_result import ORCHESTRATION_KEY, agent_response_result
from durableagent.entity.record import SessionRecord
from durableagent.entity.state import conversation_state
from durableagent.entity.turn import TurnRunner
from durableagent.entity.turn_io import (
    BatchResult,
    OperationResult,
    RunOperation,
    decode_request,
    encode_response,
    operation_input,
)
from durableagent.logs import log_failure

logger = logging.getLogger("durableagent.expiry")
operation_log = logging.getLogger("durableagent.entity")
DELETE: Final = object()
RESET_RESULT: Final = {"status": "reset"}
EXPIRED_RESULT: Final = {"status": "expired"}
ACTIVE_RESULT: Final = {"status": "active"}


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


def entity_function(build: Callable[[], SessionEntity]) -> Callable[..., Awaitable[str]]:
    """The entity trigger's function for one agent; ``build()`` runs on first use.

    The entity is built lazily because its conversation store is: store clients (an aiohttp
    session for Azure Tables) belong to the event loop that first uses them, the agent loop.
    """
    built: list[SessionEntity] = []

    # ``context`` stays unannotated, like the SDK's own ``Entity.create`` handle: the worker checks
    # an annotation against the trigger's converter (``func.EntityContext``, whose ``body`` is the
    # batch document) and entity logic imports nothing of azure.functions.
    async def agent_entity(context) -> str:  # type: ignore[no-untyped-def]
        if not built:
            built.append(build())
        return await run_async(run_batch(built[0], context.body))

    return agent_entity


async def run_batch(entity: SessionEntity, request: str | bytes) -> str:
    """Run one batch on the agent loop: each operation in order on the state the one before left.

    The loop of the SDK's ``Entity.handle`` (azure-functions-durable, ``entity.py``), run as a
    coroutine: the Python worker awaits an ``async def`` function, and the ``entityTrigger``
    converter hands it the batch document and returns the answer it gives (azure-functions,
    ``durable_functions.EnitityTriggerConverter``), so no thread waits while a turn's model
    answers. State and results are plain JSON, as the SDK's ``df_loads``/``df_dumps`` write
    them for the dicts this entity keeps. An operation that raises fails alone and leaves the
    state as it was; its result names no exception text.
    """
    _name, key, exists, text, batch = decode_request(request)
    state = json.loads(text) if exists and text is not None else None
    results: list[OperationResult] = []
    for op in batch:
        started = time.time()
        try:
            new_state, result = await entity.handle(op.name, operation_input(op.input), state, key)
        except Exception as exc:  # noqa: BLE001 - one failed operation fails only itself
            log_failure(operation_log, exc, "entity %s: operation %s failed", key, op.name)
            value, is_error = "The entity operation failed. See the app's logs.", True
        else:
            exists, state = (False, None) if new_state is DELETE else (True, new_state)
            value, is_error = result, False
        ms = int((time.time() - started) * 1000)
        results.append(OperationResult(is_error, json.dumps(value), ms, int(started * 1000)))
    return encode_response(BatchResult(exists, json.dumps(state) if exists else None, tuple(results)))


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
