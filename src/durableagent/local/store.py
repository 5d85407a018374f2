"""The local host's SQLite store: one file, one owner, durable commits, numbered migrations.

Why: a signal is acknowledged (202) only once it is durable, and an entity batch's state is
committed together with the removal of its mailbox rows, so nothing acknowledged lives only in
memory. This module owns the connection and the rules that make that true:

* WAL + ``synchronous=FULL`` (an acknowledged commit survives power loss), ``busy_timeout`` 30 s,
  ``foreign_keys=ON``, ``BEGIN IMMEDIATE`` for every write (no SQLITE_BUSY upgrade deadlock);
* an exclusive ``fcntl`` lock on ``<store>.lock`` for the host's life, so a second host on the same
  store fails fast instead of racing the first one;
* file mode 0600 (the store holds keys), ``PRAGMA quick_check`` at open;
* all SQL runs on one dedicated thread that owns the connection: callers ``await`` it, so a
  commit's fsync never stalls the event loop, and writes are naturally serialized.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib.resources
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

R = TypeVar("R")
MEMORY = ":memory:"
BUSY_TIMEOUT_MS = 30_000
_MIGRATION_NAME = re.compile(r"(\d{4})_[A-Za-z0-9_]+\.sql\Z")


class StoreError(RuntimeError):
    """The store cannot be opened (locked by another host, corrupt, newer schema, ...)."""


class StoreLockedError(StoreError):
    pass


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def migrations() -> list[tuple[int, str, str]]:
    """``(version, file name, sql)`` of the shipped migrations, in order."""
    found = []
    for entry in importlib.resources.files("durableagent.local.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise StoreError("two migrations share a version number")
    return found


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (executescript would COMMIT our transaction)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf)
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()):
        raise StoreError("migration ends with an incomplete statement")
    return out


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
        self.location = str(location)
        self.path: Path | None = None if self.location == MEMORY else Path(self.location)
        self._lock_fd: int | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._lock_fd = _acquire_lock(self.path)
            self._executor.submit(self._open).result()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"store {self.location} is not a usable SQLite database ({exc})") from exc
        except BaseException:
            self.close()
            raise

    # -- lifecycle (store thread) ---------------------------------------------------------------

    def _open(self) -> None:
        self._thread = threading.current_thread()
        if self.path is not None:
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            os.chmod(self.path, 0o600)
        conn = sqlite3.connect(self.location, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self._conn = conn
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if self.path is not None:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"store {self.path}: cannot enable WAL (journal_mode={mode})")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise StoreError(f"store {self.location} failed its integrity check: {check}")
        self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
        known = migrations()
        latest = known[-1][0] if known else 0
        if current > latest:
            raise StoreError(
                f"store {self.location} has schema version {current}, newer than this durableagent ({latest})"
            )
        for version, name, sql in known:
            if version <= current:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, utc_now()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        """Close the connection and release the lock (idempotent)."""
        with contextlib.suppress(RuntimeError):
            self._executor.submit(self._close_conn).result()
        self._executor.shutdown(wait=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    # -- running SQL ----------------------------------------------------------------------------

    def _conn_or_fail(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("store is closed")
        return self._conn

    def _read(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        return fn(self._conn_or_fail())

    def _write(
        self, fn: Callable[[sqlite3.Connection], R], after_commit: Callable[[], None] | None = None
    ) -> R:
        conn = self._conn_or_fail()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if after_commit is not None:
            after_commit()
        return result

    async def read(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run ``fn(conn)`` on the store thread (no transaction: one statement is atomic)."""
        return await asyncio.wrap_future(self._executor.submit(self._read, fn))

    async def write(
        self, fn: Callable[[sqlite3.Connection], R], after_commit: Callable[[], None] | None = None
    ) -> R:
        """Run ``fn(conn)`` inside ``BEGIN IMMEDIATE`` … ``COMMIT`` on the store thread.

        Returns after COMMIT (durable); an exception rolls the transaction back and propagates.
        ``after_commit`` runs on the store thread right after COMMIT returned (timestamps).
        """
        return await asyncio.wrap_future(self._executor.submit(self._write, fn, after_commit))

    def read_sync(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Blocking :meth:`read` for code outside the event loop (never from the store thread)."""
        self._not_on_store_thread()
        return self._executor.submit(self._read, fn).result()

    def write_sync(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Blocking :meth:`write` for code outside the event loop (never from the store thread)."""
        self._not_on_store_thread()
        return self._executor.submit(self._write, fn).result()

    def _not_on_store_thread(self) -> None:
        if threading.current_thread() is self._thread:
            raise RuntimeError("blocking store call from the store thread would deadlock")
