"""The SQLite side of the conversation store: its schema (numbered migrations) and its statements.

Kept apart from ``sqlite`` (the store's async API and its threading) so each stays small; see that
module's docstring for the durability reasoning behind ``synchronous`` and the shared WAL. Opening,
transactions and migrations follow ``durableagent.sqlite_toolkit``, like the local host's store.
"""

from __future__ import annotations

import sqlite3

from durableagent.sqlite_toolkit import Migration

VERSION_TABLE = "conv_schema_version"
"""One row per applied migration; apart from the host's ``schema_version`` (they share the file)."""
MIGRATIONS = (
    Migration(
        1,
        "conv_0001_transcripts",
        "CREATE TABLE IF NOT EXISTS conv_turns (agent TEXT NOT NULL, session TEXT NOT NULL,"
        " incarnation TEXT NOT NULL, turn INTEGER NOT NULL, record TEXT NOT NULL,"
        " PRIMARY KEY (agent, session, incarnation, turn));\n"
        "CREATE TABLE IF NOT EXISTS conv_requests (agent TEXT NOT NULL, session TEXT NOT NULL,"
        " request_id TEXT NOT NULL, attempts INTEGER NOT NULL,"
        " state TEXT NOT NULL CHECK (state IN ('accepted', 'running')),"
        " PRIMARY KEY (agent, session, request_id));\n",
    ),
    Migration(
        2,
        "conv_0002_stream_logs",
        "CREATE TABLE IF NOT EXISTS conv_stream (agent TEXT NOT NULL, session TEXT NOT NULL,"
        " request_id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, terminal INTEGER NOT NULL,"
        " PRIMARY KEY (agent, session, request_id, seq)) WITHOUT ROWID;\n"
        "CREATE TABLE IF NOT EXISTS conv_stream_end (agent TEXT NOT NULL, session TEXT NOT NULL,"
        " request_id TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (agent, session, request_id));\n"
        "CREATE INDEX IF NOT EXISTS conv_stream_end_expires ON conv_stream_end (expires);\n",
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
LOAD_SQL = (  # a range scan of the primary-key index
    "SELECT record FROM conv_turns WHERE agent = ? AND session = ? AND incarnation = ?"
    " AND turn BETWEEN ? AND ? ORDER BY turn"
)
INLINE_MAX_ROWS = 8  # load_turns ranges up to this size are read inline


def begin_attempt(conn: sqlite3.Connection, key: tuple[str, str, str]) -> int:
    """Count one more attempt of the request ``(agent, session, request_id)``; returns the count."""
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
