"""Runs durable entities: one FIFO mailbox per entity, one batch in flight per entity.

Why: Durable entities promise serial execution per entity, reliable ordered delivery and state
committed once per batch (protocol.md §4.2, §8). This engine keeps those promises on one machine:

* operations are appended to the entity's mailbox in SQLite *before* anyone is told they were
  accepted; a batch is the oldest ``max_batch`` rows of one entity;
* at most one batch per entity runs at a time; different entities run in parallel;
* the batch's new state and the removal of its rows commit in one ``BEGIN IMMEDIATE`` transaction
  (with the results of entity *calls* for orchestrations, synchronous=FULL), then ``on_commit``
  hears of the committed state (``inprocess_entities`` wakes the routes watching it);
* a function that raises (or answers garbage) fails every operation of its batch and keeps the old
  state; the batch is still removed so a deterministic failure cannot loop forever. A crash before
  COMMIT leaves the rows in the mailbox, and :meth:`start` re-dispatches them on restart.

One store trip per enqueue: an idle entity's enqueue also reads its first batch and state, and the
drain starts from them (discarded if another drain of that entity began meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from azure.functions import meta

from durableagent import _faults
from durableagent.local import bench_trace
from durableagent.local import entity_tables as tables
from durableagent.local.entity_failures import log_commit_failure, log_failed_operations
from durableagent.local.entity_pool import EntityPool
from durableagent.local.indexing import AppIndex, FunctionPlan
from durableagent.local.invoke import Invoker, new_invocation_id
from durableagent.local.store import Store
from durableagent.local.wire import entity_batch as wire
from durableagent.logs import log_failure

log = logging.getLogger("durableagent.local.entities")
_RETRY_DELAY_S = 1.0
Batch = tuple[list[tables.MailboxRow], tables.EntityRow | None]


@dataclass(frozen=True)
class EntityCallResult:
    """The answer to an orchestration's ``call_entity``: deliver as ``EventRaised(request_id, payload)``."""

    instance_id: str  # the calling orchestration
    request_id: str  # the GUID of its RequestMessage
    entity: str  # "@name@key"
    operation: str
    payload: str  # '{"result": "<json text>"}' (+ '"exceptionType"' when the operation failed)


class CallResultSink(Protocol):
    """What the orchestration engine registers to receive entity call results."""

    def write(self, conn: sqlite3.Connection, results: Sequence[EntityCallResult]) -> None:
        """Persist results inside the batch's transaction (store thread; must not commit)."""

    def committed(self, results: Sequence[EntityCallResult]) -> None:
        """Called on the event loop after COMMIT (wake the waiting instances)."""


class EntityEngine:
    """The mailboxes, drains and batch commits of every entity of one host."""

    def __init__(
        self, store: Store, index: AppIndex, plans: dict[str, FunctionPlan], invoker: Invoker, max_batch: int
    ) -> None:
        """Run the entity functions of ``index`` (planned in ``plans``) over ``store``."""
        self.store = store
        self.pool = EntityPool()  # sync entity functions: a thread per running batch (entity_pool.py)
        self.index = index
        self.plans = plans  # keyed by function name
        self.invoker = invoker
        self.max_batch = max_batch
        self.queued: dict[str, int] = {}  # operations in each mailbox (committed, not yet run)
        self.queued_total = 0
        self.finished = 0  # operations run (their batch committed) since start
        self._sink: CallResultSink | None = None
        self._active: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._drains = 0  # drains started, any entity: a preload is used only if none started meanwhile
        self.on_commit: Callable[[str, str | None], None] | None = None  # (entity, state JSON or None)
        self.on_commit_failed: Callable[[str, BaseException], None] | None = None  # (entity, the error)
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- public API -----------------------------------------------------------------------------

    def set_call_result_sink(self, sink: CallResultSink | None) -> None:
        """Receive the results of entity calls (the orchestration engine)."""
        self._sink = sink

    def has_entity(self, name: str) -> bool:
        """Whether the app defines an entity function named ``name`` (case-insensitive)."""
        return name.lower() in self.index.entities

    async def start(self) -> None:
        """Re-dispatch every non-empty mailbox (crash recovery)."""
        self._loop = asyncio.get_running_loop()
        self.queued = await self.store.read(tables.queued_counts)
        self.queued_total = sum(self.queued.values())
        for eid in await self.store.read(tables.pending_entities):
            self.wake(eid)

    async def enqueue_operation(
        self,
        entity: str,
        op: str,
        input_json: str | None,
        *,
        is_signal: bool,
        reply_to: tuple[str, str] | None = None,
        durable: bool = True,
    ) -> None:
        """Queue one operation for ``entity`` (``@name@key``) and schedule it; returns after COMMIT.

        ``input_json`` is the operation input as JSON text (what the entity's ``get_input`` will
        ``json.loads`` then ``df_loads``), or None. ``reply_to=(instance_id, request_guid)`` makes it
        a call whose result goes to the registered :class:`CallResultSink`. ``durable=False`` skips
        the commit's fsync: only for a caller that acknowledges nothing before the batch's own
        (FULL) commit or ``Store.sync``.
        """
        instance, request_id = reply_to if reply_to is not None else (None, None)
        preload = entity not in self._active
        drains = self._drains

        def insert(conn: sqlite3.Connection) -> Batch | None:
            tables.enqueue(
                conn,
                entity,
                op,
                input_json,
                is_signal=is_signal,
                request_id=request_id,
                parent_instance=instance,
            )
            return self._load(conn, entity) if preload else None

        batch = await self.store.write(insert, durable=durable)
        self.queued[entity] = self.queued.get(entity, 0) + 1
        self.queued_total += 1
        if batch is not None and self._drains == drains:
            self.wake(entity, batch)
        else:
            self.wake(entity)

    def wake(self, entity: str, batch: Batch | None = None) -> None:
        """Make sure ``entity``'s mailbox is being drained (call after committing to it).

        Safe from any thread: off the host's loop it is re-scheduled onto it. ``batch`` is the
        entity's first batch and state, read after the commit, when the caller has them.
        """
        if self._stopping:
            return
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop:
            loop.call_soon_threadsafe(self.wake, entity)
            return
        if entity in self._active:
            self._dirty.add(entity)
            return
        self._drains += 1
        self._active[entity] = asyncio.get_running_loop().create_task(
            self._drain(entity, batch), name=f"entity {entity}"
        )

    async def stop(self, timeout: float) -> None:
        """Start no new batch; wait up to ``timeout`` s for running ones (the rest are redelivered later)."""
        self._stopping = True
        tasks = list(self._active.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self.pool.shutdown(wait=False, cancel_futures=True)

    # -- the mailbox loop -----------------------------------------------------------------------

    async def _drain(self, eid: str, batch: Batch | None) -> None:
        try:
            while not self._stopping:
                self._dirty.discard(eid)
                try:
                    rows, current = (
                        batch
                        if batch is not None
                        else await self.store.read(lambda c: self._load(c, eid), inline=True)
                    )
                    batch = None
                    if not rows:
                        if eid in self._dirty:
                            continue
                        return
                    await self._run_batch(eid, rows, current)
                    if len(rows) < self.max_batch and eid not in self._dirty:
                        # The batch held every row committed before it was read; a later enqueue
                        # calls wake() after its commit, which marks this entity dirty.
                        return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a store failure (a full disk): retry the batch later
                    log_commit_failure(exc, _RETRY_DELAY_S)
                    if self.on_commit_failed is not None:
                        self.on_commit_failed(eid, exc)
                    batch = None
                    await asyncio.sleep(_RETRY_DELAY_S)
        finally:
            self._active.pop(eid, None)

    def _load(self, conn: sqlite3.Connection, eid: str) -> Batch:
        """The next batch and the entity's current state, in one trip to the store thread."""
        rows = tables.load_batch(conn, eid, self.max_batch)
        return rows, tables.read_entity(conn, eid) if rows else None

    async def _run_batch(
        self, eid: str, rows: list[tables.MailboxRow], current: tables.EntityRow | None
    ) -> None:
        name, key = tables.split_entity_id(eid)
        batch = [wire.Operation(r.operation, r.input, r.is_signal) for r in rows]
        outcome = await self._invoke(name, key, current, batch)
        if outcome is None:  # invocation failure: every operation failed, old state kept
            results = wire.failed_results(len(rows), "The entity function failed.")
            exists, state, write_state = current is not None, current.state if current else None, False
        else:
            results, exists, state, write_state = outcome.results, outcome.exists, outcome.state, True
            if any(r.is_error for r in results):  # operations that raised inside the batch
                log_failed_operations(eid, rows, results)
        calls = [
            EntityCallResult(r.parent_instance, r.request_id, eid, r.operation, wire.call_response(res))
            for r, res in zip(rows, results, strict=True)
            if not r.is_signal and r.parent_instance
        ]
        sink = self._sink
        last_seq = rows[-1].seq

        def commit(conn: sqlite3.Connection) -> None:
            if write_state:
                tables.save_entity(conn, eid, exists=exists, state=state)
            tables.dequeue(conn, eid, last_seq)
            if calls and sink is not None:
                sink.write(conn, calls)
            if _faults.ARMED:
                _faults.crash_point("host.entity.in_commit")

        stamp = (lambda: bench_trace.commit(eid)) if bench_trace.ENABLED else None
        await self.store.write(commit, after_commit=stamp)
        self._ran(eid, len(rows))
        if _faults.ARMED:
            _faults.crash_point("host.entity.after_commit")
        if write_state and self.on_commit is not None:
            self.on_commit(eid, state if exists else None)
        if calls:
            if sink is not None:
                sink.committed(calls)
            else:
                log.warning("entity %s: %d call result(s) dropped (no orchestration engine)", eid, len(calls))

    def _ran(self, eid: str, count: int) -> None:
        left = self.queued.pop(eid, 0) - count
        if left > 0:
            self.queued[eid] = left
        self.queued_total = max(0, self.queued_total - count)
        self.finished += count

    async def _invoke(
        self, name: str, key: str, current: tables.EntityRow | None, batch: list[wire.Operation]
    ) -> wire.BatchResult | None:
        entity = self.index.entities.get(name)
        if entity is None:
            log.error("entity %s: no entity function is registered under this name", name)
            return None
        plan = self.plans[entity.name]
        request = wire.encode_request(
            name, key, exists=current is not None, state=current.state if current else None, batch=batch
        )
        invocation_id = new_invocation_id()
        trigger = entity.function.get_trigger().name
        try:
            inputs = {trigger: meta.Datum(request, "string")}
            datum = await self.invoker.invoke(plan, inputs, invocation_id=invocation_id, executor=self.pool)
            if datum is None:
                raise wire.BatchResponseError("entity function returned nothing")
            return wire.decode_response(datum.value, len(batch))
        except Exception as exc:  # noqa: BLE001 - a failed invocation fails its batch, whatever the cause
            log_failure(
                log, exc, "entity %s: invocation %s failed (%d operation(s))", name, invocation_id, len(batch)
            )
            return None
