"""Turn-control marks of the SQLite store (``store_protocol.TurnControl``): the ``conv_marks`` table.

Marks are written with a FULL commit whatever the store's mode: a cancel is acknowledged to its
caller right after, with no host commit to make it durable (as ``mark_accepted``). A reset's
``replace_marks`` runs inside the reset operation, whose batch the host then commits FULL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from durableagent.conversation.base import (
    Mark,
    SessionRef,
    TurnRecord,
    check_request,
    check_session,
    checked_ids,
    checked_mark,
    decode_record,
)

T = TypeVar("T")


class SqliteMarks:
    """Mixin of ``SQLiteConversationStore`` (it supplies the reads and the transactions)."""

    _read: Callable[..., Awaitable[list[Any]]]
    _write: Callable[..., Awaitable[Any]]
    _write_full: Callable[..., Awaitable[Any]]

    async def request_ids(self, agent: str, session: str) -> list[str]:
        """The ids of the session's ledger rows."""
        check_session(agent, session)
        rows = await self._read(
            "SELECT request_id FROM conv_requests WHERE agent = ? AND session = ? ORDER BY rowid",
            (agent, session),
        )
        return [str(row[0]) for row in rows]

    async def register_request(self, agent: str, session: str, request_id: str) -> bool:
        """Insert an accepted row unless one exists (inline in NORMAL mode); whether it was inserted."""
        checked_mark(agent, session, request_id, "cancel")
        sql = (
            "INSERT INTO conv_requests (agent, session, request_id, attempts, state)"
            " VALUES (?, ?, ?, 0, 'accepted') ON CONFLICT DO NOTHING"
        )
        count = await self._write(lambda conn: conn.execute(sql, (agent, session, request_id)).rowcount)
        return bool(count)

    async def set_mark(self, agent: str, session: str, request_id: str, mark: Mark) -> None:
        """Mark the request (``discarded`` is never replaced by ``cancel``); a FULL commit."""
        mark = checked_mark(agent, session, request_id, mark)
        sql = (
            "INSERT INTO conv_marks (agent, session, request_id, mark) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (agent, session, request_id) DO UPDATE SET mark = excluded.mark"
            " WHERE conv_marks.mark <> 'discarded'"
        )
        await self._write_full(lambda conn: conn.execute(sql, (agent, session, request_id, mark)))

    async def mark_of(self, agent: str, session: str, request_id: str) -> Mark | None:
        """The request's mark, if any (a point read, inline when the file is free)."""
        checked_mark(agent, session, request_id, "cancel")
        rows = await self._read(
            "SELECT mark FROM conv_marks WHERE agent = ? AND session = ? AND request_id = ?",
            (agent, session, request_id),
            inline=True,
        )
        return rows[0][0] if rows else None

    async def replace_marks(self, agent: str, session: str, discarded: Iterable[str]) -> None:
        """The session's only marks become ``discarded`` for ``discarded``, in one transaction."""
        ids = checked_ids(agent, session, discarded)

        def replace(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM conv_marks WHERE agent = ? AND session = ?", (agent, session))
            conn.executemany(
                "INSERT INTO conv_marks (agent, session, request_id, mark) VALUES (?, ?, ?, 'discarded')",
                [(agent, session, request_id) for request_id in ids],
            )

        await self._write(replace, inline=False)

    async def find_turn(self, ref: SessionRef, request_id: str, newest: int) -> TurnRecord | None:
        """The newest turn of ``ref`` written for ``request_id``: one query over the session's rows."""
        check_request(ref.agent, ref.session, request_id)
        rows = await self._read(
            "SELECT record FROM conv_turns WHERE agent = ? AND session = ? AND incarnation = ?"
            " AND turn <= ? AND json_extract(record, '$.request_id') = ? ORDER BY turn DESC LIMIT 1",
            (ref.agent, ref.session, ref.incarnation, newest, request_id),
        )
        return decode_record(rows[0][0]) if rows else None
