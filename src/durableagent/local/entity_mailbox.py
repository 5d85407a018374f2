"""Entity mailboxes: one FIFO per entity in SQLite, one drain (one batch in flight) per entity.

Why: Durable entities promise serial execution per entity, reliable ordered delivery and state
committed once per batch (protocol.md §4.2, §8). The mailboxes keep the first two on one machine:

* operations are appended to the entity's mailbox in SQLite *before* anyone is told they were
  accepted; a batch is the oldest ``max_batch`` rows of one entity;
* at most one batch per entity runs at a time; different entities run in parallel;
* a batch is run and committed by :mod:`entity_batches`; after its COMMIT ``on_commit`` hears of
  the committed state (``inprocess_entities`` wakes the routes watching it). A crash before COMMIT
  leaves the rows in the mailbox; ``EntityEngine.start`` (:mod:`entity_engine`) re-dispatches them.

One store trip per enqueue: an idle entity's enqueue also reads its first batch and state, and the
drain starts from them (discarded if another drain of that entity began meanwhile).

The SQL over the entity tables of migration 0001 (entities, entity_mailbox) lives here, each
statement once, save for a batch's state write (:mod:`entity_batches`) and what runs only at startup
or for the management API (:mod:`entity_engine`). Every function takes the connection and runs on
the store thread (``Store.read``/``Store.write``), so callers choose the transaction boundary.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from durableagent import _faults
from durableagent.local.entity_failures import log_commit_failure
from durableagent.local.store import Store
from durableagent.sqlite_toolkit import SQL_NOW

if TYPE_CHECKING:  # entity_batches imports this module's rows and statements
    from durableagent.local.entity_batches import CallResultSink, Committed, EntityBatches

log = logging.getLogger("durableagent.local.entities")
_RETRY_DELAY_S = 1.0

# A constant statement (SQL_NOW is our own expression); every value is bound.
_ENQUEUE = (
    "INSERT INTO entity_mailbox (entity_id, operation, input, is_signal, request_id, parent_instance,"  # noqa: S608
    f" enqueued_at) VALUES (?, ?, ?, ?, ?, ?, {SQL_NOW})"
)


def entity_id(name: str, key: str) -> str:
    """The scheduler id ``@name@key`` of an entity: the one place that spells it.

    The Durable extension compares entity names case-insensitively and stores them lower-cased
    (``EntityId.GetSchedulerIdFromEntityId``); keys are case-sensitive. (``AgentSessionId``'s string
    keeps the name's case: it names a session, not a mailbox.)
    """
    return f"@{name.lower()}@{key}"


def split_entity_id(eid: str) -> tuple[str, str]:
    """``@name@key`` → ``(name, key)``; the key may itself contain ``@``.

    Raises:
        ValueError: ``eid`` is not a scheduler id.
    """
    at = eid.find("@", 1)
    if not eid.startswith("@") or at < 0:
        raise ValueError(f"not an entity id: {eid[:64]!r}")
    return eid[1:at], eid[at + 1 :]


@dataclass(frozen=True)
class MailboxRow:
    """One queued entity operation; ``parent_instance``: the calling orchestration (None: signal, client)."""

    seq: int
    operation: str
    input: str | None
    is_signal: bool
    request_id: str
    parent_instance: str | None


@dataclass(frozen=True)
class EntityRow:
    """One stored entity: its state JSON (None once deleted by its function) and last operation time."""

    entity_id: str
    name: str
    key: str
    state: str | None
    last_operation: str


def enqueue(
    conn: sqlite3.Connection,
    eid: str,
    operation: str,
    input_json: str | None,
    *,
    is_signal: bool,
    request_id: str | None = None,
    parent_instance: str | None = None,
) -> int:
    """Append one operation to ``eid``'s mailbox; returns its sequence number."""
    cur = conn.execute(
        _ENQUEUE,
        (eid, operation, input_json, int(is_signal), request_id or secrets.token_hex(16), parent_instance),
    )
    return int(cur.lastrowid or 0)


def load_batch(conn: sqlite3.Connection, eid: str, limit: int) -> list[MailboxRow]:
    """The oldest ``limit`` operations queued for ``eid``, in arrival order."""
    rows = conn.execute(
        "SELECT seq, operation, input, is_signal, request_id, parent_instance FROM entity_mailbox"
        " WHERE entity_id = ? ORDER BY seq LIMIT ?",
        (eid, limit),
    ).fetchall()
    return [MailboxRow(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows]


def read_entity(conn: sqlite3.Connection, eid: str) -> EntityRow | None:
    """The stored entity, or None if it does not exist."""
    r = conn.execute(
        "SELECT entity_id, name, key, state, last_operation FROM entities WHERE entity_id = ?", (eid,)
    ).fetchone()
    return EntityRow(*r) if r else None


def dequeue(conn: sqlite3.Connection, eid: str, last_seq: int) -> None:
    """Remove a processed batch from the mailbox (same transaction as ``entity_batches.save_entity``).

    A batch is always the oldest rows of its entity and ``seq`` only grows, so "up to the batch's
    last seq" is exactly the batch.
    """
    conn.execute("DELETE FROM entity_mailbox WHERE entity_id = ? AND seq <= ?", (eid, last_seq))


Batch = tuple[list[MailboxRow], EntityRow | None]


class EntityMailboxes:
    """The mailboxes and drains of every entity of one host; :class:`EntityBatches` runs the batches."""

    def __init__(self, store: Store, batches: EntityBatches, max_batch: int) -> None:
        """Queue operations in ``store``; drain them ``max_batch`` at a time through ``batches``."""
        self.store = store
        self.batches = batches
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
        self._stopping = False  # set by EntityEngine.stop
        self._loop: asyncio.AbstractEventLoop | None = None  # the host's, set by EntityEngine.start

    # -- public API -----------------------------------------------------------------------------

    def set_call_result_sink(self, sink: CallResultSink | None) -> None:
        """Receive the results of entity calls (the orchestration engine)."""
        self._sink = sink

    def has_entity(self, name: str) -> bool:
        """Whether the app defines an entity function named ``name`` (case-insensitive)."""
        return name.lower() in self.batches.index.entities

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
            enqueue(
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

    # -- the mailbox loop -----------------------------------------------------------------------

    async def _drain(self, eid: str, batch: Batch | None) -> None:
        try:
            while not self._stopping:
                try:
                    if batch is None:
                        # Clear the mark before the read: an enqueue committed after this point
                        # marks it again. A preloaded batch was read before this drain began, so a
                        # mark set since then (an enqueue that lost the race to start the drain)
                        # names a row that batch may not hold, and must be kept.
                        self._dirty.discard(eid)
                        rows, current = await self.store.read(lambda c: self._load(c, eid), inline=True)
                    else:
                        (rows, current), batch = batch, None
                    if not rows:
                        if eid in self._dirty:
                            continue
                        return
                    sink = self._sink
                    done = await self.batches.run(eid, rows, current, sink)
                    self._committed(eid, len(rows), done, sink)
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
        rows = load_batch(conn, eid, self.max_batch)
        return rows, read_entity(conn, eid) if rows else None

    def _committed(self, eid: str, count: int, done: Committed, sink: CallResultSink | None) -> None:
        """A batch of ``count`` operations committed: count them run, announce its state and results."""
        left = self.queued.pop(eid, 0) - count
        if left > 0:
            self.queued[eid] = left
        self.queued_total = max(0, self.queued_total - count)
        self.finished += count
        if _faults.ARMED:
            _faults.crash_point("host.entity.after_commit")
        if done.state_written and self.on_commit is not None:
            self.on_commit(eid, done.state)
        if done.calls:
            if sink is not None:
                sink.committed(done.calls)
            else:
                log.warning(
                    "entity %s: %d call result(s) dropped (no orchestration engine)", eid, len(done.calls)
                )
