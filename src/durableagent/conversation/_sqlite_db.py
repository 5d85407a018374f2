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
    Migration(  # turn control (conversation/store_protocol.py): marks outlive the ledger row and a reset
        3,
        "conv_0003_marks",
        "CREATE TABLE IF NOT EXISTS conv_marks (agent TEXT NOT NULL, session TEXT NOT NULL,"
        " request_id TEXT NOT NULL, mark TEXT NOT NULL CHECK (mark IN ('cancel', 'discarded')),"
        " PRIMARY KEY (agent, session, request_id));\n",
    ),
    # The session index (conversation/store_protocol.py). Sessions that existed before it get a summary
    # from their turns and the default 14-day expiry; the sweep's ``expire`` operation then checks
    # it against the agent's real TTL and corrects it (or clears it for an agent without one).
    Migration(
        4,
        "conv_0004_session_index",
        "CREATE TABLE IF NOT EXISTS conv_sessions (agent TEXT NOT NULL, session TEXT NOT NULL,"
        " created_at TEXT NOT NULL, last_active_at TEXT NOT NULL, turns INTEGER NOT NULL,"
        " expires_at TEXT, PRIMARY KEY (agent, session));\n"
        "CREATE INDEX IF NOT EXISTS conv_sessions_by_activity"
        " ON conv_sessions (agent, last_active_at DESC, session);\n"
        "CREATE INDEX IF NOT EXISTS conv_sessions_by_expiry"
        " ON conv_sessions (agent, expires_at) WHERE expires_at IS NOT NULL;\n"
        "INSERT OR IGNORE INTO conv_sessions"
        " SELECT agent, session, MIN(json_extract(record, '$.started_at')),"
        " MAX(json_extract(record, '$.completed_at')), COUNT(*),"
        " strftime('%Y-%m-%dT%H:%M:%fZ', MAX(json_extract(record, '$.completed_at')), '+14 days')"
        " FROM conv_turns GROUP BY agent, session;\n",
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
