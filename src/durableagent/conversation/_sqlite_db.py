"""The SQLite side of the conversation store: schema, connection settings, transactions, errors.

Kept apart from ``sqlite`` (the store's async API and its threading) so each stays small; see
that module's docstring for the durability reasoning behind ``synchronous`` and the shared WAL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from durableagent.conversation.base import StoreError

T = TypeVar("T")

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS conv_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS conv_turns (agent TEXT NOT NULL, session TEXT NOT NULL,"
    " incarnation TEXT NOT NULL, turn INTEGER NOT NULL, record TEXT NOT NULL,"
    " PRIMARY KEY (agent, session, incarnation, turn))",
    "CREATE TABLE IF NOT EXISTS conv_requests (agent TEXT NOT NULL, session TEXT NOT NULL,"
    " request_id TEXT NOT NULL, attempts INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('accepted', 'running')),"
    " PRIMARY KEY (agent, session, request_id))",
)
LOAD_SQL = (  # a range scan of the primary-key index
    "SELECT record FROM conv_turns WHERE agent = ? AND session = ? AND incarnation = ?"
    " AND turn BETWEEN ? AND ? ORDER BY turn"
)
# Primary result codes that mean "try again later": busy, locked, I/O error, disk full.
_TRANSIENT_CODES = {5, 6, 10, 13}
_BUSY_CODES = {5, 6}
SYNCHRONOUS_MODES = ("full", "normal")
INLINE_MAX_ROWS = 8  # load_turns ranges up to this size are read inline


def is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if isinstance(code, int):
        return code & 0xFF in _BUSY_CODES
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def is_transient(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if isinstance(code, int):
        return code & 0xFF in _TRANSIENT_CODES
    text = str(exc).lower()
    return any(word in text for word in ("locked", "busy", "disk i/o", "full"))


def _create_private(path: Path) -> None:
    """Create the database file with mode 0600 unless it exists (an empty file is a valid database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def run_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _migrate(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA:
        conn.execute(statement)
    row = conn.execute("SELECT value FROM conv_meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        sql = "INSERT INTO conv_meta (key, value) VALUES ('schema_version', ?)"
        conn.execute(sql, (str(SCHEMA_VERSION),))
    elif int(row[0]) > SCHEMA_VERSION:
        raise StoreError(
            f"conversation schema version {row[0]} is newer than this durableagent ({SCHEMA_VERSION})"
        )


def connect(path: Path, busy_timeout_ms: int, synchronous: str) -> sqlite3.Connection:
    _create_private(path)
    conn = sqlite3.connect(
        path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot switch {path.name} to WAL (journal_mode is {mode})")
        if synchronous == "normal":  # see the module docstring: only for a file a FULL host shares
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint=0")
        else:
            conn.execute("PRAGMA synchronous=FULL")
        run_transaction(conn, _migrate)
    except BaseException:
        conn.close()
        raise
    return conn


def begin_attempt(conn: sqlite3.Connection, key: tuple[str, str, str]) -> int:
    conn.execute(
        "INSERT INTO conv_requests (agent, session, request_id, attempts, state)"
        " VALUES (?, ?, ?, 1, 'running') ON CONFLICT (agent, session, request_id)"
        " DO UPDATE SET attempts = attempts + 1, state = 'running'",
        key,
    )
    row = conn.execute(
        "SELECT attempts FROM conv_requests WHERE agent = ? AND session = ? AND request_id = ?", key
    ).fetchone()
    return int(row[0])
