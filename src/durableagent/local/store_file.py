"""The host's store file: opened and locked for the host's life, migrated, closed.

Why: the store holds every acknowledged signal, entity state and key, so the file is opened once,
by one host, with the durability rules of the shared ``durableagent.sqlite_toolkit``:

* WAL + ``synchronous=FULL`` (an acknowledged commit survives power loss), ``busy_timeout`` 30 s,
  ``foreign_keys=ON``, ``PRAGMA quick_check`` at open, the numbered migrations of
  ``durableagent.local.migrations``;
* an exclusive ``fcntl`` lock on ``<store>.lock`` for the host's life, so a second host on the same
  store fails fast instead of racing the first one; file mode 0600 (the store holds keys);
* one dedicated thread (the store thread) owns the FULL connection, and one lock is held around
  every use of a connection; a second connection of the same file (NORMAL, ``busy_timeout=0``)
  serves the inline reads and writes of ``store.Store``, which runs SQL on what
  :class:`StoreFile` opens.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from durableagent.sqlite_toolkit import (
    MEMORY,
    SqliteSchemaError,
    SqliteSettings,
    migrate,
    open_database,
    packaged_migrations,
)

R = TypeVar("R")
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


class StoreFile:
    """The open, locked store file: its two connections, the store thread and the connections' lock."""

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

    # -- on the store thread --------------------------------------------------------------------

    def _conn_or_fail(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("store is closed")
        return self._conn

    def _read(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        with self._lock:
            return fn(self._conn_or_fail())

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

    def _not_on_store_thread(self) -> None:
        if threading.current_thread() is self._thread:
            raise RuntimeError("blocking store call from the store thread would deadlock")
