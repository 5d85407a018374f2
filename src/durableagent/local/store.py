"""The local host's SQLite store: durable commits, grouped; inline work when nothing contends.

Why: a signal is acknowledged (202) only once it is durable, and an entity batch's state is
committed together with the removal of its mailbox rows, so nothing acknowledged lives only in
memory. :class:`Store` runs SQL on the file ``store_file.StoreFile`` opened and locked: callers
``await`` it, so a commit's fsync never stalls the event loop, and writes are serialized (one lock
around every use of a connection).

Group commit: every entity batch, signal and orchestration episode commits ``synchronous=FULL``;
one at a time, the store thread spends an fsync (2-7 ms on this class of disk) per write, which
caps a host at a few hundred commits per second however many sessions are in flight. So the
writes queued while the previous group committed run as one ``BEGIN IMMEDIATE`` … ``COMMIT``, each
inside its own ``SAVEPOINT`` (:func:`commit_group`; a group of one is a plain
:func:`~durableagent.sqlite_toolkit.transaction`):

* a write that raises is rolled back to its savepoint and only its caller sees the exception (as
  if its own transaction had rolled back); the others still commit;
* the writes run in the order they were queued, each seeing the ones before it: the same outcome
  as committing them one after another;
* no caller hears of its write before the group's COMMIT returned (its future resolves after it);
  a crash before that COMMIT loses the whole group, none of which was acknowledged;
* when the transaction itself is lost (COMMIT fails, or an error made SQLite roll the whole
  transaction back) every write of the group fails with that error, and its caller retries.

A write may skip its own fsync (``durable=False``) when the host will make it durable before it
acknowledges anything that depends on it: the next FULL commit of the file, or :meth:`Store.sync`,
flushes every earlier frame of the WAL (SQLite's WAL is one file, appended in commit order). Such a
write, and a read that asks for it (``inline=True``), first try on the caller's thread with a
second connection that never waits (``busy_timeout=0``, NORMAL): microseconds, where the trip to
the store thread and back costs more; when the store or the file is busy they take that trip
(and a write then commits FULL).

After a write failed (a full disk, an I/O error), the next write that commits also checkpoints
the WAL with ``TRUNCATE``: a WAL that grew until the disk was full shrinks back once space returns.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from durableagent.local.store_file import StoreError, StoreFile
from durableagent.sqlite_toolkit import MEMORY, WalRecovery, is_busy, transaction

__all__ = ["MEMORY", "Store"]

R = TypeVar("R")

MAX_GROUP = 512
"""Writes per transaction at most (the rest wait for the next group)."""


@dataclass
class PendingWrite:
    """One queued write: the SQL function, what runs after COMMIT, and the caller's future."""

    fn: Callable[[sqlite3.Connection], Any]
    after_commit: Callable[[], None] | None
    future: Future[Any]


class WriteQueue:
    """Writes waiting for the store thread; :meth:`put` says whether a drain must be scheduled."""

    def __init__(self) -> None:
        """An empty queue with no drain scheduled."""
        self._lock = threading.Lock()
        self._items: list[PendingWrite] = []
        self._scheduled = False

    def put(self, item: PendingWrite) -> bool:
        """Queue ``item``; True when the caller must schedule :meth:`take` on the store thread."""
        with self._lock:
            self._items.append(item)
            if self._scheduled:
                return False
            self._scheduled = True
            return True

    def take(self) -> tuple[list[PendingWrite], bool]:
        """The next group (up to :data:`MAX_GROUP`) and whether more are left (schedule again)."""
        with self._lock:
            group, self._items = self._items[:MAX_GROUP], self._items[MAX_GROUP:]
            more = bool(self._items)
            self._scheduled = more
            return group, more


def commit_group(
    conn: sqlite3.Connection, group: list[PendingWrite], settled: Callable[[bool], None] | None = None
) -> None:
    """Run ``group`` in one transaction on ``conn`` (store thread, lock held) and resolve its futures.

    ``settled(ok)`` runs before any caller hears the outcome; ``ok`` is False when SQLite failed a
    write (the store truncates its WAL once writes succeed again, before anyone is answered).
    """
    live = [w for w in group if w.future.set_running_or_notify_cancel()]
    if not live:
        return
    if len(live) == 1:
        only = live[0]
        try:
            result = transaction(conn, only.fn)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            if settled is not None:
                settled(not isinstance(exc, sqlite3.Error))
            only.future.set_exception(exc)
            return
        if settled is not None:
            settled(True)
        _resolve([(only, True, result)])
        return
    outcomes: list[tuple[PendingWrite, bool, Any]] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for write in live:
            conn.execute("SAVEPOINT grouped")
            try:
                result = write.fn(conn)
            except Exception as exc:
                if not conn.in_transaction:  # SQLite rolled the whole transaction back
                    raise
                conn.execute("ROLLBACK TO grouped")
                conn.execute("RELEASE grouped")
                outcomes.append((write, False, exc))
            else:
                conn.execute("RELEASE grouped")
                outcomes.append((write, True, result))
        conn.execute("COMMIT")
    except BaseException as exc:  # noqa: BLE001 - the whole group failed: every caller hears why
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            if settled is not None:
                settled(not isinstance(exc, sqlite3.Error))
            for write in live:
                write.future.set_exception(exc)
        return
    if settled is not None:
        settled(not any(not ok and isinstance(value, sqlite3.Error) for _w, ok, value in outcomes))
    _resolve(outcomes)


def _resolve(outcomes: list[tuple[PendingWrite, bool, Any]]) -> None:
    for write, ok, value in outcomes:
        if not ok:
            write.future.set_exception(value)
            continue
        if write.after_commit is not None:
            write.after_commit()
        write.future.set_result(value)


class Store(StoreFile):
    """The open store. SQL functions receive the connection and run on the store thread."""

    def __init__(self, location: str | Path) -> None:
        """Open (creating and migrating if needed) and lock the store at ``location`` (``StoreFile``)."""
        self._writes = WriteQueue()  # durable writes waiting for the next group commit
        self._recovery = WalRecovery()  # a full disk: the WAL is truncated once writes succeed again
        super().__init__(location)

    # -- the API --------------------------------------------------------------------------------

    async def read(self, fn: Callable[[sqlite3.Connection], R], *, inline: bool = False) -> R:
        """Run ``fn(conn)`` on the store thread (no transaction: one statement is atomic).

        ``inline``: try on the caller's thread first (short reads on the event loop).
        """
        if inline:
            done, result = self._inline(fn, write=False)
            if done:
                return result  # type: ignore[return-value]
        return await asyncio.wrap_future(self._executor.submit(self._read, fn))

    async def write(
        self,
        fn: Callable[[sqlite3.Connection], R],
        *,
        durable: bool = True,
        after_commit: Callable[[], None] | None = None,
    ) -> R:
        """Run ``fn(conn)`` inside ``BEGIN IMMEDIATE`` … ``COMMIT``.

        Returns after COMMIT; with ``durable`` (the default) the commit is on disk, made on the store
        thread. ``durable=False`` tries on the caller's thread first, without the fsync (module
        docstring). An exception rolls the transaction back and propagates. ``after_commit`` runs
        right after COMMIT returned (the bench's timestamps).
        """
        if not durable:
            done, result = self._inline(fn, write=True)
            if done:
                if after_commit is not None:
                    after_commit()
                return result  # type: ignore[return-value]
        return await asyncio.wrap_future(self._queue_write(fn, after_commit))

    async def sync(self) -> None:
        """Make every earlier (``durable=False``) commit durable."""
        await asyncio.wrap_future(self._executor.submit(self._sync))

    def read_sync(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Blocking :meth:`read` for code outside the event loop (never from the store thread)."""
        self._not_on_store_thread()
        return self._executor.submit(self._read, fn).result()

    def write_sync(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Blocking :meth:`write` for code outside the event loop (never from the store thread)."""
        self._not_on_store_thread()
        return self._queue_write(fn, None).result()

    # -- running SQL (store thread) -------------------------------------------------------------

    def _queue_write(
        self, fn: Callable[[sqlite3.Connection], R], after_commit: Callable[[], None] | None
    ) -> Future[R]:
        """Queue a durable write for the store thread's next group commit (:func:`commit_group`)."""
        future: Future[R] = Future()
        if self._writes.put(PendingWrite(fn, after_commit, future)):
            self._executor.submit(self._commit_writes)
        return future

    def _commit_writes(self) -> None:
        group, more = self._writes.take()
        if more:
            self._executor.submit(self._commit_writes)
        with self._lock:
            if self._conn is None:
                for write in group:
                    if write.future.set_running_or_notify_cancel():
                        write.future.set_exception(StoreError("store is closed"))
                return
            try:
                commit_group(self._conn, group, self._settled)
            except BaseException as exc:  # noqa: BLE001 - no caller may wait forever
                for write in group:
                    if not write.future.done():
                        write.future.set_exception(exc)

    def _settled(self, ok: bool) -> None:
        """After a group commit, before its callers hear: note a failure, or truncate the WAL after one."""
        if not ok:
            self._recovery.failed = True
        elif self._conn is not None:
            self._recovery.succeeded(self._conn)

    def _inline(self, fn: Callable[[sqlite3.Connection], R], *, write: bool) -> tuple[bool, R | None]:
        """Run ``fn`` on this thread if nothing else holds the store; ``(False, None)`` when busy."""
        if not self._lock.acquire(blocking=False):
            return False, None
        try:
            conn = self._normal
            if conn is None:
                raise StoreError("store is closed")
            try:
                return True, transaction(conn, fn) if write else fn(conn)
            except sqlite3.OperationalError as exc:
                if is_busy(exc):  # another connection of the file (the conversation store) writes
                    return False, None
                self._recovery.failed = self._recovery.failed or write
                raise
        finally:
            self._lock.release()
