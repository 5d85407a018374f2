"""This host's entities, offered in-process to the app's routes (``durableagent.entity_client``).

Why: an HTTP function of the app signals an entity and waits for the commit that answers it. Over
the Durable HTTP API that costs a loopback request per signal and a poll per read; the host runs
the app in its own process, so it registers this client under its ``rpcBaseUrl`` and the routes
use it instead: the signal goes straight into the entity engine's mailbox, and the route's watch
is woken by the batch's commit.

Equivalence with the HTTP path: the queued input is byte for byte what the SDK's
``signal_entity`` and the extension's HTTP handler would queue (the SDK posts ``json.dumps(input)``
as a JSON body, the handler stores the parsed body re-serialized: ``durable_api.operation_input``),
so the entity function cannot tell the difference. The signal's commit skips its fsync; the route
calls :meth:`flush` before it acknowledges a request with 202, and a 200 follows the batch's own
FULL commit. ``DURABLEAGENT_INPROCESS_RPC=0`` turns this off (the routes then use HTTP, as on Azure).

Backpressure (:class:`Admission`): without a bound a client can queue thousands of
``respond-async`` turns, each accepted with 202, and a turn on a fresh session then waits behind
all of them. A route's signal is admitted only while its entity has fewer than ``per_entity`` and
the host fewer than ``per_host`` operations queued (the engine's mailbox counts: committed, not yet
run); beyond either it is refused with ``429 too-many-turns`` and a ``Retry-After`` estimated from
the rate at which the engine has been finishing operations. Only these route signals are bounded:
orchestrations' operations and signals over the Durable HTTP API are counted but never refused
(the Durable extension accepts them unconditionally, and an orchestration cannot take a 429).

Store failures (a full disk, an I/O error) are the backend being unavailable: a signal, a read or
a flush that fails raises ``entity_client.unavailable`` (503 with ``Retry-After``), and a batch
commit that fails while a route watches the entity ends the route's wait with that same 503, so no
route answers 202 for a turn whose commit failed.
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from durableagent import _faults, entity_client
from durableagent.contract.problems import TooManyTurns
from durableagent.local import entity_mailbox as mailbox
from durableagent.local.entity_mailbox import EntityMailboxes
from durableagent.local.store import Store
from durableagent.local.store_file import StoreError

DISABLE_ENV = "DURABLEAGENT_INPROCESS_RPC"
DEFAULT_PER_ENTITY = 128
DEFAULT_PER_HOST = 10_000
_RATE_HALF_LIFE_S = 5.0  # how fast the finishing-rate estimate forgets
T = TypeVar("T")
_STORE_ERRORS = (sqlite3.Error, OSError, StoreError)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class EntityWatch:
    """Committed states of one entity, delivered on the loop of whoever watches."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on ``loop`` (the watcher's)."""
        self._loop = loop
        self._states: collections.deque[dict[str, Any] | None] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._failure: BaseException | None = None  # a commit of the entity's batch failed

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        if self._waiter is not None:
            _wake(self._waiter)

    def fail(self, exc: BaseException) -> None:
        """A commit of the entity's batch failed (from any thread): the wait ends with a 503."""
        self._loop.call_soon_threadsafe(self._fail, exc)

    def _push(self, state: dict[str, Any] | None) -> None:
        self._states.append(state)
        if self._waiter is not None:
            _wake(self._waiter)

    def deliver(self, state: dict[str, Any] | None) -> None:
        """Queue a committed state (from any thread)."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._push(state)
        else:
            self._loop.call_soon_threadsafe(self._push, state)

    async def next(self, timeout: float) -> tuple[bool, dict[str, Any] | None]:
        """``(True, state)`` on a commit within ``timeout`` seconds, else ``(False, None)``.

        Raises:
            StoreUnavailable: a commit of the entity's batch failed while nothing was pending.
        """
        if not self._states and self._failure is None:
            waiter = self._waiter = self._loop.create_future()
            timer = self._loop.call_later(timeout, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self._states:
            return True, self._states.popleft()
        if self._failure is not None:
            raise entity_client.unavailable("committing an entity batch", self._failure)
        return False, None

    async def until(self, answer: Callable[[dict[str, Any] | None], T | None], seconds: float) -> T | None:
        """The first committed state's ``answer`` that is not None, within ``seconds`` (else None).

        No re-reads: every state committed while the watch is open reaches it, and a route opens
        its watch before it reads or signals.
        """
        deadline = self._loop.time() + seconds
        while (remaining := deadline - self._loop.time()) > 0:
            got, state = await self.next(remaining)
            if got and (found := answer(state)) is not None:
                return found
        return None


class Admission:
    """The bounds on queued operations, and the engine's recent finishing rate (for ``Retry-After``)."""

    def __init__(self, per_entity: int = DEFAULT_PER_ENTITY, per_host: int = DEFAULT_PER_HOST) -> None:
        """Refuse beyond ``per_entity`` queued operations on one entity or ``per_host`` in all."""
        if per_entity < 1 or per_host < 1:
            raise ValueError("backlog bounds must be >= 1")
        self.per_entity = per_entity
        self.per_host = per_host
        self._rate = 0.0  # operations finished per second (exponentially weighted)
        self._seen = (time.monotonic(), 0)  # (when, engine.finished) at the last estimate

    def check(self, engine: EntityMailboxes, entity: str) -> None:
        """Raise :class:`TooManyTurns` when one more operation for ``entity`` would exceed a bound."""
        queued = engine.queued.get(entity, 0)
        if queued >= self.per_entity:
            raise TooManyTurns(
                f"This session already has {queued} turns queued; retry after Retry-After seconds.",
                retry_after=self._retry_after(engine, queued - self.per_entity + 1),
            )
        if engine.queued_total >= self.per_host:
            raise TooManyTurns(
                "The host has as many turns queued as it accepts; retry after Retry-After seconds.",
                retry_after=self._retry_after(engine, engine.queued_total - self.per_host + 1),
            )

    def _retry_after(self, engine: EntityMailboxes, excess: int) -> int:
        """Seconds until ``excess`` more operations will likely have finished (1..60)."""
        now, finished = time.monotonic(), engine.finished
        then, before = self._seen
        if now - then > 0.1:
            weight = math.exp(-(now - then) / _RATE_HALF_LIFE_S)
            self._rate = weight * self._rate + (1 - weight) * (finished - before) / (now - then)
            self._seen = (now, finished)
        return 1 if self._rate <= 0 else max(1, min(60, math.ceil(excess / self._rate)))


class InProcessEntities:
    """An ``EntityClient`` (``durableagent.entity_client``) over this host's engine and store."""

    def __init__(self, engine: EntityMailboxes, store: Store, admission: Admission | None = None) -> None:
        """Serve the app's routes from ``engine`` and ``store``; hear of the engine's commits."""
        self._engine = engine
        self._store = store
        self._admission = admission or Admission()
        self._watches: dict[str, set[EntityWatch]] = {}
        engine.on_commit = self._committed
        engine.on_commit_failed = self._commit_failed

    def _commit_failed(self, entity: str, exc: BaseException) -> None:
        for watch in tuple(self._watches.get(entity, ())):
            watch.fail(exc)

    def _committed(self, entity: str, state: str | None) -> None:
        """The engine committed ``entity``'s ``state`` (JSON, None when deleted): wake its watches."""
        watches = self._watches.get(entity)
        if watches:
            committed = json.loads(state) if state else None
            for watch in tuple(watches):
                watch.deliver(committed)

    async def signal(self, name: str, key: str, operation: str, value: Any) -> None:
        """Queue ``operation`` as a signal; returns after its (not yet fsynced) commit.

        Raises ``TooManyTurns`` (429) when the entity's or the host's queue is full (:class:`Admission`).
        """
        if not self._engine.has_entity(name):
            raise LookupError(f"no entity function named {name!r}")
        eid = mailbox.entity_id(name, key)
        self._admission.check(self._engine, eid)
        input_json = (
            json.dumps(json.dumps(value), ensure_ascii=False, separators=(",", ":")) if value else None
        )
        try:
            await self._engine.enqueue_operation(eid, operation, input_json, is_signal=True, durable=False)
        except _STORE_ERRORS as exc:
            raise entity_client.unavailable("signalling entity", exc) from None
        if _faults.ARMED:
            _faults.crash_point("host.signal.after_commit")  # queued, not yet answered

    async def read(self, name: str, key: str) -> dict[str, Any] | None:
        """The entity's committed state."""
        eid = mailbox.entity_id(name, key)
        try:
            row = await self._store.read(lambda c: mailbox.read_entity(c, eid), inline=True)
        except _STORE_ERRORS as exc:
            raise entity_client.unavailable("reading entity state", exc) from None
        if row is None or row.state is None:
            return None
        state = json.loads(row.state)
        return state if isinstance(state, dict) else None

    @contextmanager
    def watch(self, name: str, key: str) -> Iterator[EntityWatch]:
        """Receive every state committed for the entity while the block runs."""
        entity = mailbox.entity_id(name, key)
        watch = EntityWatch(asyncio.get_running_loop())
        self._watches.setdefault(entity, set()).add(watch)
        try:
            yield watch
        finally:
            watches = self._watches.get(entity)
            if watches is not None:
                watches.discard(watch)
                if not watches:
                    del self._watches[entity]

    async def flush(self) -> None:
        """Make every signal sent so far durable (an fsync of the store's WAL)."""
        try:
            await self._store.sync()
        except _STORE_ERRORS as exc:
            raise entity_client.unavailable("flushing signals", exc) from None
