"""Runs one entity batch: the entity function on a thread of its own, then one commit of the outcome.

Why: Durable entities promise state committed once per batch (protocol.md §4.2, §8). The mailboxes
(:mod:`entity_mailbox`) hand a batch here, the oldest rows of one entity's mailbox, and:

* the batch's new state and the removal of its rows commit in one ``BEGIN IMMEDIATE`` transaction
  (with the results of entity *calls* for orchestrations, synchronous=FULL);
* a function that raises (or answers garbage) fails every operation of its batch and keeps the old
  state; the batch is still removed so a deterministic failure cannot loop forever. A crash before
  COMMIT leaves the rows in the mailbox, to be run again.

The threads (:class:`EntityPool`): one per running batch, started on demand, gone when idle.
Why: the Durable SDK runs an entity function synchronously. ``Entity.create(fn)`` gives the
worker a plain function whose ``Entity.handle`` loops over the batch calling ``self.fn(context)``
and reads ``context._result`` right after it returns (azure-functions-durable-python,
``azure/durable_functions/entity.py``), so an ``async def`` entity function would hand back an
unawaited coroutine. A batch of such a function therefore holds a thread for as long as its
operations run, and sharing the pool of HTTP functions, min(32, CPUs + 4) threads, would let about
six slow operations run at once on two cores. An ``async def`` entity function (durableagent's
session entity, ``entity/session.py``, which answers the batch document itself) is awaited on the
host's loop instead, as the Python worker awaits it, and holds no thread while a turn waits on
its model.

The Durable extension bounds entity work by its own setting, ``maxConcurrentEntityFunctions``
(azure-functions-durable-extension, ``DurableTaskOptions.MaxConcurrentEntityFunctions``), not by
the worker's HTTP pool; the local host honours it from host.json, default :data:`DEFAULT_MAX`. A
waiting thread costs little (its stack pages are touched lazily, it holds no GIL while blocked),
and the pool lets a thread go after :data:`IDLE_SECONDS` without work, so a burst of in-flight
sessions does not leave a thousand threads behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from azure.functions import meta

from durableagent import _faults
from durableagent.local import bench_trace
from durableagent.local import entity_mailbox as mailbox
from durableagent.local.entity_failures import log_failed_operations
from durableagent.local.indexing import AppIndex, FunctionPlan
from durableagent.local.invoke import Invoker, new_invocation_id
from durableagent.local.store import Store
from durableagent.local.wire import entity_batch as wire
from durableagent.logs import log_failure
from durableagent.sqlite_toolkit import SQL_NOW

T = TypeVar("T")
log = logging.getLogger("durableagent.local.entities")
# A constant statement (SQL_NOW is our own expression); every value is bound.
_SAVE_ENTITY = (
    f"INSERT INTO entities (entity_id, name, key, state, last_operation) VALUES (?, ?, ?, ?, {SQL_NOW})"  # noqa: S608
    " ON CONFLICT (entity_id) DO UPDATE SET state = excluded.state, last_operation = excluded.last_operation"
)

DEFAULT_MAX = 2048
"""Entity batches that may run at once when host.json sets no ``maxConcurrentEntityFunctions``."""
IDLE_SECONDS = 30.0
"""A thread with no work for this long ends."""

_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class EntityPool(Executor):
    """An executor whose threads are started when every existing one is busy (up to ``max_threads``)."""

    def __init__(self, max_threads: int = DEFAULT_MAX, idle_seconds: float = IDLE_SECONDS) -> None:
        """Run at most ``max_threads`` calls at once; idle threads end after ``idle_seconds``."""
        if max_threads < 1:
            raise ValueError("max_threads must be >= 1")
        self.max_threads = max_threads
        self.idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._queue: deque[_Item] = deque()
        self._threads = 0  # alive
        self._waiting = 0  # alive and waiting for work
        self._shutdown = False
        self._started = 0  # threads started so far (their names)
        self._to_start = 0  # counted in _threads, not yet started
        self._spawner: threading.Thread | None = None
        self._spawn_wanted = threading.Event()

    @property
    def threads(self) -> int:
        """Threads alive now."""
        return self._threads

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on a pool thread; a new thread if none is free and the cap allows."""
        future: Future[T] = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            self._queue.append((future, fn, args, kwargs))
            if self._waiting >= len(self._queue):
                self._cond.notify()
            elif self._threads < self.max_threads:
                self._threads += 1  # counted now, started by the spawner
                self._to_start += 1
                if self._spawner is None:
                    self._spawner = threading.Thread(target=self._spawn, name="entity-spawner", daemon=True)
                    self._spawner.start()
                else:
                    self._spawn_wanted.set()
        return future

    def _spawn(self) -> None:
        """Start the threads :meth:`submit` asked for, off the caller's thread.

        ``Thread.start`` waits until the new thread runs: milliseconds on a busy machine, which
        must never be spent on the host's event loop.
        """
        while True:
            with self._cond:
                count, self._to_start = self._to_start, 0
                if self._shutdown:
                    return
            for _ in range(count):
                self._started += 1
                threading.Thread(target=self._work, name=f"entity-{self._started}", daemon=True).start()
            self._spawn_wanted.wait()
            self._spawn_wanted.clear()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._waiting += 1
                while not self._queue and not self._shutdown:
                    if not self._cond.wait(self.idle_seconds) and not self._queue:
                        break
                self._waiting -= 1
                if not self._queue:  # idle too long, or shut down
                    self._threads -= 1
                    return
                future, fn, args, kwargs = self._queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Start nothing new; with ``cancel_futures`` cancel what has not started; ``wait`` is not honoured.

        Threads blocked in a running entity function are daemons: they end with the process.
        """
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                while self._queue:
                    self._queue.popleft()[0].cancel()
            self._cond.notify_all()
        self._spawn_wanted.set()


def save_entity(conn: sqlite3.Connection, eid: str, *, exists: bool, state: str | None) -> None:
    """Write the batch's outcome: upsert the state, or delete the row when the entity no longer exists."""
    if not exists:
        conn.execute("DELETE FROM entities WHERE entity_id = ?", (eid,))
        return
    name, key = mailbox.split_entity_id(eid)
    conn.execute(_SAVE_ENTITY, (eid, name, key, state))


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


@dataclass(frozen=True)
class Committed:
    """What a batch's commit wrote: the new state (if its function answered) and the call results."""

    state_written: bool  # False: the invocation failed, the old state stays
    state: str | None  # the committed state JSON; None once the entity no longer exists
    calls: list[EntityCallResult]


class EntityBatches:
    """Runs the app's entity functions on an :class:`EntityPool` and commits each batch's outcome."""

    def __init__(
        self,
        store: Store,
        index: AppIndex,
        plans: dict[str, FunctionPlan],
        invoker: Invoker,
        pool: EntityPool | None = None,
    ) -> None:
        """Run the entity functions of ``index`` (planned in ``plans``) on ``pool``, commit to ``store``."""
        self.store = store
        self.index = index
        self.plans = plans  # keyed by function name
        self.invoker = invoker
        self.pool = pool or EntityPool()  # sync entity functions: a thread per running batch

    async def run(
        self,
        eid: str,
        rows: list[mailbox.MailboxRow],
        current: mailbox.EntityRow | None,
        sink: CallResultSink | None,
    ) -> Committed:
        """Run ``rows`` (the oldest of ``eid``'s mailbox) on ``current`` and commit; returns after COMMIT.

        The results of calls are written through ``sink`` in the batch's transaction; announcing
        them (``sink.committed``) is the caller's part.
        """
        name, key = mailbox.split_entity_id(eid)
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
        last_seq = rows[-1].seq

        def commit(conn: sqlite3.Connection) -> None:
            if write_state:
                save_entity(conn, eid, exists=exists, state=state)
            mailbox.dequeue(conn, eid, last_seq)
            if calls and sink is not None:
                sink.write(conn, calls)
            if _faults.ARMED:
                _faults.crash_point("host.entity.in_commit")

        stamp = (lambda: bench_trace.commit(eid)) if bench_trace.ENABLED else None
        await self.store.write(commit, after_commit=stamp)
        return Committed(write_state, state if exists else None, calls)

    async def _invoke(
        self, name: str, key: str, current: mailbox.EntityRow | None, batch: list[wire.Operation]
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
