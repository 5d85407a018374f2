"""ConversationStore in a SQLite file (stdlib ``sqlite3``): the local host's transcripts.

Why: the embedded host keeps everything in one SQLite file, so transcripts and the request
ledger live there too, next to the host's own tables (which another connection owns). To coexist,
this module only touches ``conv_*`` tables, creates them with ``CREATE TABLE IF NOT EXISTS``, keeps
its schema versions in its own ``conv_schema_version`` table, never runs VACUUM and switches the
journal to WAL only when it is not WAL already (``durableagent.sqlite_toolkit``).

Durability: every write is one ``BEGIN IMMEDIATE`` transaction in WAL mode. By default it commits
with ``synchronous=FULL``, so a call that returned survives power loss. ``busy_timeout=30000``
absorbs the host's short write transactions; a lock held longer surfaces as
:class:`StoreUnavailableError`.

``synchronous="normal"`` (``sqlite:PATH?synchronous=normal``; the local host sets it when the store
is its own file) is for one case only: the file's WAL is shared with a host that commits with
``synchronous=FULL`` after every entity operation and before acknowledging anything. Then:

* a WAL is one file appended in commit order, and a FULL commit fsyncs that file, so every frame
  written before it, by any connection, is on disk when it returns: a NORMAL write made during an
  entity operation (``begin_attempt``, ``forget_request``, ``append_turn``, ``drop_session``) is
  durable no later than the host's commit of that operation's batch, which precedes the reply;
* SQLite keeps a NORMAL commit across an *application* crash (kill -9, ``os._exit``) like a FULL
  one: the frames are in the OS page cache. Only an OS crash or power loss can lose NORMAL writes
  not yet followed by a FULL commit: an attempt count (one attempt fewer toward poisoning) or a
  transcript row of a turn whose batch never committed (the turn then runs again, as it would have
  if the crash had come before the write);
* ``mark_accepted`` is written by the route right before a 202, with no host commit after it, so
  it stays FULL in every mode.

This connection then never checkpoints (``wal_autocheckpoint=0``): the host's connection does.

Threads: two connections per store, each guarded by a lock (``check_same_thread=False``). Work that
can wait (a FULL commit's fsync, a busy lock, a range of many rows) runs in a worker thread
(``asyncio.to_thread``) on the first one, so that it never stalls the agent loop. Point reads, and
in NORMAL mode the small writes, first try on the caller's thread on the second one, whose
``busy_timeout`` is 0 (they take tens of microseconds, a thread hop costs more); when a lock is
busy they fall back to the worker thread.

The ledger is cleaned by ``forget_request`` and ``drop_session``; it is not otherwise bounded.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from durableagent.conversation._sqlite_control import SqliteMarks
from durableagent.conversation._sqlite_db import (
    INLINE_MAX_ROWS,
    LOAD_SQL,
    MIGRATIONS,
    SCHEMA_VERSION,
    VERSION_TABLE,
    begin_attempt,
)
from durableagent.conversation._sqlite_sessions import SqliteSessionIndex
from durableagent.conversation.base import (
    MAX_TURN,
    RequestState,
    SessionRef,
    StoreError,
    StoreUnavailableError,
    TurnRecord,
    check_request,
    check_session,
    decode_record,
    encode_record,
)
from durableagent.sqlite_toolkit import (
    SqliteSchemaError,
    SqliteSettings,
    WalRecovery,
    is_busy,
    is_transient,
    migrate,
    open_database,
    transaction,
)

__all__ = ["LOAD_SQL", "SCHEMA_VERSION", "SQLiteConversationStore"]

T = TypeVar("T")
BUSY_TIMEOUT_MS = 30_000
SYNCHRONOUS_MODES = ("full", "normal")


def _settings(busy_timeout_ms: int, synchronous: str) -> SqliteSettings:
    return SqliteSettings(
        synchronous="normal" if synchronous == "normal" else "full",
        busy_timeout_ms=busy_timeout_ms,
        # NORMAL only shares a FULL host's file: that connection checkpoints (module docstring).
        checkpoints=synchronous != "normal",
        foreign_keys=False,
    )


def _open_fast(path: Path, busy_timeout_ms: int, synchronous: str) -> sqlite3.Connection:
    conn = open_database(path, _settings(busy_timeout_ms, synchronous))
    conn.execute("PRAGMA busy_timeout=0")
    return conn


def _connect(path: Path, busy_timeout_ms: int, synchronous: str) -> sqlite3.Connection:
    conn = open_database(path, _settings(busy_timeout_ms, synchronous))
    try:
        migrate(conn, MIGRATIONS, VERSION_TABLE)
    except SqliteSchemaError as exc:
        conn.close()
        raise StoreError(f"conversation {exc}") from None
    except BaseException:
        conn.close()
        raise
    return conn


class SQLiteConversationStore(SqliteSessionIndex, SqliteMarks):
    """Transcripts, the request ledger and the session index in ``conv_*`` tables of a SQLite file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        synchronous: str = "full",
    ) -> None:
        """Open (creating with mode 0600 if needed) ``path`` and its ``conv_*`` tables.

        ``synchronous="normal"`` only when a host committing with FULL shares the file (module docstring).
        """
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}")
        self.path = Path(path)
        self.synchronous = synchronous
        self._recovery = WalRecovery()  # a full disk: the WAL is truncated once writes succeed again
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = self._guard(
            lambda: _connect(self.path, busy_timeout_ms, synchronous)
        )
        # A second connection that never waits for a lock: tried first, on the caller's thread. It is
        # opened waiting as usual (the schema is the first connection's) and then stops waiting.
        self._fast_lock = threading.Lock()
        self._fast: sqlite3.Connection | None = self._guard(
            lambda: _open_fast(self.path, busy_timeout_ms, synchronous)
        )

    def _guard(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except sqlite3.Error as exc:
            if is_transient(exc):
                raise StoreUnavailableError(f"SQLite store {self.path.name} is unavailable") from exc
            raise

    def _locked(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError("the conversation store is closed")
            return self._guard(lambda: work(conn))

    def _inline(self, work: Callable[[sqlite3.Connection], T]) -> tuple[bool, T | None]:
        """Try ``work`` on this thread without waiting: ``(False, None)`` when a lock is busy."""
        if not self._fast_lock.acquire(blocking=False):
            return False, None
        try:
            conn = self._fast
            if conn is None:
                raise StoreError("the conversation store is closed")
            try:
                return True, work(conn)
            except sqlite3.Error as exc:
                if is_busy(exc):
                    return False, None
                if is_transient(exc):
                    raise StoreUnavailableError(f"SQLite store {self.path.name} is unavailable") from exc
                raise
        finally:
            self._fast_lock.release()

    async def _read(self, sql: str, params: tuple[Any, ...], *, inline: bool = False) -> list[Any]:
        def read(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(sql, params).fetchall()

        if inline:
            done, rows = self._inline(read)
            if done:
                return rows or []
        return await asyncio.to_thread(self._locked, read)

    async def _write(self, work: Callable[[sqlite3.Connection], T], *, inline: bool = True) -> T:
        """Run ``work`` in one transaction; inline (no thread hop) only when it commits without fsync."""

        def committed(conn: sqlite3.Connection) -> T:
            return self._recovery.run(conn, work)

        if inline and self.synchronous == "normal":
            done, result = self._inline(committed)
            if done:
                return result  # type: ignore[return-value]
        return await asyncio.to_thread(self._locked, committed)

    async def _write_full(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """A write that is durable on its own (synchronous=FULL) whatever the store's mode."""
        if self.synchronous == "full":
            return await self._write(work)

        def committed_full(conn: sqlite3.Connection) -> T:
            conn.execute("PRAGMA synchronous=FULL")
            try:
                return transaction(conn, work)
            finally:
                conn.execute("PRAGMA synchronous=NORMAL")

        return await asyncio.to_thread(self._locked, committed_full)

    async def begin_attempt(self, agent: str, session: str, request_id: str) -> int:
        """Count one more attempt (1 the first time) and mark it running, in one transaction."""
        check_request(agent, session, request_id)
        return await self._write(lambda conn: begin_attempt(conn, (agent, session, request_id)))

    async def mark_accepted(self, agent: str, session: str, request_id: str) -> None:
        """Insert an accepted row unless one exists; always a FULL commit (it precedes a 202)."""
        check_request(agent, session, request_id)
        sql = (
            "INSERT INTO conv_requests (agent, session, request_id, attempts, state)"
            " VALUES (?, ?, ?, 0, 'accepted') ON CONFLICT DO NOTHING"
        )
        await self._write_full(lambda conn: conn.execute(sql, (agent, session, request_id)))

    async def request_state(self, agent: str, session: str, request_id: str) -> RequestState | None:
        """``accepted``, ``running``, or None for an unknown (or forgotten) request."""
        check_request(agent, session, request_id)
        rows = await self._read(
            "SELECT state FROM conv_requests WHERE agent = ? AND session = ? AND request_id = ?",
            (agent, session, request_id),
            inline=True,
        )
        if not rows:
            return None
        state: RequestState = "running" if rows[0][0] == "running" else "accepted"
        return state

    async def forget_request(self, agent: str, session: str, request_id: str) -> None:
        """Delete the request's ledger row, if any."""
        check_request(agent, session, request_id)
        sql = "DELETE FROM conv_requests WHERE agent = ? AND session = ? AND request_id = ?"
        await self._write(lambda conn: conn.execute(sql, (agent, session, request_id)))

    async def append_turn(self, ref: SessionRef, record: TurnRecord) -> None:
        """Upsert the record under ``(ref, turn)``; RecordTooLargeError if over the limit."""
        params = (ref.agent, ref.session, ref.incarnation, record.turn, encode_record(record))
        sql = (
            "INSERT INTO conv_turns (agent, session, incarnation, turn, record) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (agent, session, incarnation, turn) DO UPDATE SET record = excluded.record"
        )
        await self._write(lambda conn: conn.execute(sql, params))

    async def get_turn(self, ref: SessionRef, turn: int) -> TurnRecord | None:
        """The turn of this session life, or None when absent."""
        turns = await self.load_turns(ref, turn, turn)
        return turns[0] if turns else None

    async def load_turns(self, ref: SessionRef, first: int, last: int) -> list[TurnRecord]:
        """Records with ``first <= turn <= last`` in turn order; short ranges read inline."""
        first, last = max(first, 1), min(last, MAX_TURN)
        if first > last:
            return []
        params = (ref.agent, ref.session, ref.incarnation, first, last)
        rows = await self._read(LOAD_SQL, params, inline=last - first < INLINE_MAX_ROWS)
        return [decode_record(row[0]) for row in rows]

    async def drop_session(self, agent: str, session: str) -> None:
        """Delete every turn of every incarnation and every ledger row of the session."""
        check_session(agent, session)

        def drop(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM conv_turns WHERE agent = ? AND session = ?", (agent, session))
            conn.execute("DELETE FROM conv_requests WHERE agent = ? AND session = ?", (agent, session))
            conn.execute("DELETE FROM conv_sessions WHERE agent = ? AND session = ?", (agent, session))

        await self._write(drop, inline=False)  # may delete many rows: never on the caller's thread

    def close(self) -> None:
        """Close the connections (safe from any thread, idempotent)."""
        with self._lock:
            conn, self._conn = self._conn, None
        with self._fast_lock:
            fast, self._fast = self._fast, None
        for each in (conn, fast):
            if each is not None:
                each.close()

    async def aclose(self) -> None:
        """Close both connections; idempotent."""
        self.close()
