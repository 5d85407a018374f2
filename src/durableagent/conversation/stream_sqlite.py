"""The stream log in the SQLite conversation store's file (``conv_stream``, ``conv_stream_end``).

Why here: on the local host the turn's events are committed in the same file, with the same
connections and durability as the transcript (see ``conversation.sqlite``): in NORMAL mode an
append is a short inline transaction (tens of microseconds) that survives a crash of the process
(SIGKILL) and becomes power-loss durable with the host's next FULL commit. A committed append wakes
this process's readers (``stream_hub``), so a route tailing the log sees an event within
microseconds of its commit.

Trimming: ``finish`` records when the log may go; logs past that time are deleted by the next
``finish`` of any turn, at most every :data:`TRIM_INTERVAL` seconds, in the store's worker thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from durableagent.conversation import stream_hub
from durableagent.conversation.stream_base import StreamEntry, StreamKey, expiry

if TYPE_CHECKING:
    from durableagent.conversation.sqlite import SQLiteConversationStore

TRIM_INTERVAL = 30.0
_APPEND = (
    "INSERT INTO conv_stream (agent, session, request_id, seq, data, terminal) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (agent, session, request_id, seq) DO UPDATE SET data = excluded.data,"
    " terminal = excluded.terminal"
)
_READ = (
    "SELECT seq, data, terminal FROM conv_stream WHERE agent = ? AND session = ? AND request_id = ?"
    " AND seq > ? ORDER BY seq LIMIT ?"
)
_LAST = (
    "SELECT seq, data, terminal FROM conv_stream WHERE agent = ? AND session = ? AND request_id = ?"
    " ORDER BY seq DESC LIMIT 1"
)
_END = (
    "INSERT INTO conv_stream_end (agent, session, request_id, expires) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (agent, session, request_id) DO UPDATE SET expires = excluded.expires"
)
_TRIM = (
    "DELETE FROM conv_stream WHERE (agent, session, request_id) IN"
    " (SELECT agent, session, request_id FROM conv_stream_end WHERE expires <= ?)"
)
_TRIM_ENDS = "DELETE FROM conv_stream_end WHERE expires <= ?"


def _key(key: StreamKey) -> tuple[str, str, str]:
    return (key.agent, key.session, key.request_id)


class SQLiteStreamLog:
    """The stream logs of one :class:`SQLiteConversationStore` (its connections, its durability)."""

    any_loop = True

    def __init__(self, store: SQLiteConversationStore) -> None:
        """Share ``store``'s file and connections."""
        self.store = store
        self.trim_interval = TRIM_INTERVAL
        self._trimmed = 0.0

    async def append(self, key: StreamKey, entries: Sequence[StreamEntry]) -> None:
        """Upsert ``entries`` in one transaction, then wake this process's readers."""
        base = _key(key)
        rows = [(*base, e.seq, e.data, int(e.terminal)) for e in entries]

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(_APPEND, rows)

        await self.store._write(write)  # the log is part of the store (same package)
        stream_hub.notify(key)

    async def read(self, key: StreamKey, after: int, limit: int) -> list[StreamEntry]:
        """Entries after ``after`` in order (a range of the primary key)."""
        rows = await self.store._read(_READ, (*_key(key), after, limit), inline=True)
        return [StreamEntry(int(seq), str(data), bool(terminal)) for seq, data, terminal in rows]

    async def last(self, key: StreamKey) -> StreamEntry | None:
        """The newest entry, or None."""
        rows = await self.store._read(_LAST, _key(key), inline=True)
        if not rows:
            return None
        seq, data, terminal = rows[0]
        return StreamEntry(int(seq), str(data), bool(terminal))

    async def finish(self, key: StreamKey, retention_seconds: float) -> None:
        """Record the log's expiry; trim expired logs (rate-limited, off the caller's thread)."""
        params = (*_key(key), expiry(retention_seconds))
        await self.store._write(lambda conn: conn.execute(_END, params))
        now = time.time()
        if now - self._trimmed < self.trim_interval:
            return
        self._trimmed = now

        def trim(conn: sqlite3.Connection) -> None:
            conn.execute(_TRIM, (now,))
            conn.execute(_TRIM_ENDS, (now,))

        await self.store._write(trim, inline=False)
