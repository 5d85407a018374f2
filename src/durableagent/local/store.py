"""The local host's SQLite store: one file, one owner, durable commits, numbered migrations.

Why: a signal is acknowledged (202) only once it is durable, and an entity batch's state is
committed together with the removal of its mailbox rows, so nothing acknowledged lives only in
memory. This module owns the host's connection; the rules for opening, transactions and
migrations are the shared ``durableagent.sqlite_toolkit``:

* WAL + ``synchronous=FULL`` (an acknowledged commit survives power loss), ``busy_timeout`` 30 s,
  ``foreign_keys=ON``, ``BEGIN IMMEDIATE`` for every write, ``PRAGMA quick_check`` at open;
* an exclusive ``fcntl`` lock on ``<store>.lock`` for the host's life, so a second host on the same
  store fails fast instead of racing the first one; file mode 0600 (the store holds keys);
* SQL runs on one dedicated thread: callers ``await`` it, so a commit's fsync never stalls the
  event loop, and writes are serialized (one lock around every use of a connection); the durable
  writes queued meanwhile commit together, one fsync for the group (``group_commit``).

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
import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from durableagent.local.group_commit import PendingWrite, WriteQueue, commit_group
from durableagent.sqlite_toolkit import (
    MEMORY,
    SqliteSchemaError,
    SqliteSettings,
    WalRecovery,
    is_busy,
    migrate,
    open_database,
    packaged_migrations,
    transaction,
)

__all__ = ["MEMORY", "Store", "StoreError", "StoreLockedError", "migrations"]

R = TypeVar("R")
log = logging.getLogger("durableagent.local.store")
SETTINGS = SqliteSettings(synchronous="full", foreign_keys=True, integrity_check=True)
NORMAL_SETTINGS = SqliteSettings(synchronous="normal", foreign_keys=True, checkpoints=False)
MIGRATIONS_PACKAGE = "durableagent.local.migrations"
VERSION_TABLE = "schema_version"


class StoreError(RuntimeError):
    """The store cannot be opened (locked by another host, corrupt, newer schema, ...)."""


class StoreLockedError(StoreError):
    """Another host holds the store's lock."""


def migrations() -> list[tuple[int, str, str]]:
    """``(version, file name, sql)`` of the shipped migrations, in order."""
    return [(m.version, m.name, m.sql) for m in packaged_migrations(MIGRATIONS_PACKAGE)]


def _acquire_lock(path: Path) -> int:
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StoreLockedError(
            f"store {path} is in use by another durableagent host (pid {holder}); "
            "stop it or pass a different --store"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


class Store:
    """The open store. SQL functions receive the connection and run on the store thread."""

    def __init__(self, location: str | Path) -> None:
        """Open (creating and migrating if needed) and lock the store at ``location``.

        Raises:
            StoreLockedError: another host holds the store.
            StoreError: the file is not a usable database, or a newer release migrated it.
        """
        self.location = str(location)
        self.path: Path | None = None if self.location == MEMORY else Path(self.location)
        self._lock_fd: int | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._conn: sqlite3.Connection | None = None  # synchronous=FULL, on the store thread
        self._normal: sqlite3.Connection | None = None  # NORMAL, busy_timeout=0: inline reads and writes
        self._lock = threading.Lock()  # held by every use of a connection
        self._writes = WriteQueue()  # durable writes waiting for the next group commit
        self._recovery = WalRecovery()  # a full disk: the WAL is truncated once writes succeed again
        self._thread: threading.Thread | None = None
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._lock_fd = _acquire_lock(self.path)
            self._executor.submit(self._open).result()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"store {self.location} is not a usable SQLite database ({exc})") from exc
        except SqliteSchemaError as exc:
            self.close()
            raise StoreError(f"store {self.location}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    # -- lifecycle (store thread) ---------------------------------------------------------------

    def _open(self) -> None:
        self._thread = threading.current_thread()
        conn = open_database(self.location, SETTINGS)
        self._conn = conn
        if self.path is not None:
            os.chmod(self.path, 0o600)
        migrate(conn, packaged_migrations(MIGRATIONS_PACKAGE), VERSION_TABLE)
        # A second connection of the same file (the same database for :memory:), for inline work:
        # opened waiting as usual, then it never waits (a busy file sends the work to this thread).
        if self.path is None:
            self._normal = conn
        else:
            self._normal = open_database(self.location, NORMAL_SETTINGS)
            self._normal.execute("PRAGMA busy_timeout=0")

    def _close_conn(self) -> None:
        for conn in {id(c): c for c in (self._normal, self._conn) if c is not None}.values():
            conn.close()
        self._conn = self._normal = None

    def close(self) -> None:
        """Close the connection and release the lock (idempotent)."""
        with contextlib.suppress(RuntimeError):
            self._executor.submit(self._close_conn).result()
        self._executor.shutdown(wait=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    # -- running SQL (store thread) -------------------------------------------------------------

    def _conn_or_fail(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("store is closed")
        return self._conn

    def _read(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        with self._lock:
            return fn(self._conn_or_fail())

    def _queue_write(
        self, fn: Callable[[sqlite3.Connection], R], after_commit: Callable[[], None] | None
    ) -> Future[R]:
        """Queue a durable write for the store thread's next group commit (``group_commit``)."""
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

    def _sync(self) -> None:
        """Flush the WAL to disk: every commit made so far becomes durable."""
        if self.path is None:
            return
        wal = self.path.with_name(self.path.name + "-wal")
        with self._lock:
            try:
                fd = os.open(wal, os.O_RDONLY)
            except FileNotFoundError:  # checkpointed and removed: everything is in the main file
                return
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

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

    def _not_on_store_thread(self) -> None:
        if threading.current_thread() is self._thread:
            raise RuntimeError("blocking store call from the store thread would deadlock")
