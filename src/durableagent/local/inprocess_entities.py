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

Store failures (a full disk, an I/O error) are the backend being unavailable: a signal, a read or
a flush that fails raises ``entity_client.unavailable`` (503 with ``Retry-After``), and a batch
commit that fails while a route watches the entity ends the route's wait with that same 503, so no
route answers 202 for a turn whose commit failed.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from durableagent import _faults, entity_client
from durableagent.local import entity_tables as tables
from durableagent.local.entity_engine import EntityEngine
from durableagent.local.store import Store, StoreError

DISABLE_ENV = "DURABLEAGENT_INPROCESS_RPC"
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


class InProcessEntities:
    """An ``EntityClient`` (``durableagent.entity_client``) over this host's engine and store."""

    def __init__(self, engine: EntityEngine, store: Store) -> None:
        """Serve the app's routes from ``engine`` and ``store``; hear of the engine's commits."""
        self._engine = engine
        self._store = store
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
        """Queue ``operation`` as a signal; returns after its (not yet fsynced) commit."""
        if not self._engine.has_entity(name):
            raise LookupError(f"no entity function named {name!r}")
        input_json = (
            json.dumps(json.dumps(value), ensure_ascii=False, separators=(",", ":")) if value else None
        )
        try:
            await self._engine.enqueue_operation(
                tables.entity_id(name, key), operation, input_json, is_signal=True, durable=False
            )
        except _STORE_ERRORS as exc:
            raise entity_client.unavailable("signalling entity", exc) from None
        if _faults.ARMED:
            _faults.crash_point("host.signal.after_commit")  # queued, not yet answered

    async def read(self, name: str, key: str) -> dict[str, Any] | None:
        """The entity's committed state."""
        eid = tables.entity_id(name, key)
        try:
            row = await self._store.read(lambda c: tables.read_entity(c, eid), inline=True)
        except _STORE_ERRORS as exc:
            raise entity_client.unavailable("reading entity state", exc) from None
        if row is None or row.state is None:
            return None
        state = json.loads(row.state)
        return state if isinstance(state, dict) else None

    @contextmanager
    def watch(self, name: str, key: str) -> Iterator[EntityWatch]:
        """Receive every state committed for the entity while the block runs."""
        entity = tables.entity_id(name, key)
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
