"""The SQLite conversation store's session index (``conv_sessions``; see ``conversation.store_protocol``).

A mixin of :class:`~durableagent.conversation.sqlite.SQLiteConversationStore`, kept apart so that
each module stays small: the listing is a keyset scan of the ``(agent, last_active_at DESC,
session)`` index, the sweep a range of the partial ``(agent, expires_at)`` index; neither reads a
transcript row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from durableagent.conversation.base import SessionPage, SessionSummary, check_session
from durableagent.conversation.paging import (
    activity_cursor,
    check_limit,
    parse_activity_cursor,
)

T = TypeVar("T")
_SELECT = "SELECT agent, session, created_at, last_active_at, turns, expires_at FROM conv_sessions WHERE "
_UPSERT = (
    "INSERT INTO conv_sessions (agent, session, created_at, last_active_at, turns, expires_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (agent, session) DO UPDATE SET created_at = excluded.created_at,"
    " last_active_at = excluded.last_active_at, turns = excluded.turns, expires_at = excluded.expires_at"
)


def _summary(row: tuple[Any, ...]) -> SessionSummary:
    return SessionSummary(str(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4]), row[5])


class SqliteSessionIndex:
    """The session index methods of the SQLite store, over ``conv_sessions``."""

    async def _read(self, sql: str, params: tuple[Any, ...], *, inline: bool = False) -> list[Any]:
        raise NotImplementedError  # the store's

    async def _write(self, work: Callable[[sqlite3.Connection], T], *, inline: bool = True) -> T:
        raise NotImplementedError  # the store's

    async def touch_session(self, summary: SessionSummary) -> None:
        """Upsert the summary (inline in NORMAL mode, like the other writes of an operation)."""
        s = summary
        params = (s.agent, s.session, s.created_at, s.last_active_at, s.turns, s.expires_at)
        await self._write(lambda conn: conn.execute(_UPSERT, params))

    async def get_session(self, agent: str, session: str) -> SessionSummary | None:
        """The session's summary, if any."""
        check_session(agent, session)
        rows = await self._read(_SELECT + "agent = ? AND session = ?", (agent, session), inline=True)
        return _summary(rows[0]) if rows else None

    async def list_sessions(self, agent: str, limit: int, cursor: str | None = None) -> SessionPage:
        """A keyset page of the activity index: ``limit + 1`` rows tell whether another page follows."""
        check_session(agent, "x")
        check_limit(limit)
        params: tuple[Any, ...]
        if cursor is None:
            where, params = "agent = ?", (agent, limit + 1)
        else:
            active, session = parse_activity_cursor(cursor)
            where = "agent = ? AND (last_active_at < ? OR (last_active_at = ? AND session > ?))"
            params = (agent, active, active, session, limit + 1)
        sql = _SELECT + where + " ORDER BY last_active_at DESC, session LIMIT ?"
        rows = [_summary(row) for row in await self._read(sql, params)]
        page = rows[:limit]
        return SessionPage(page, activity_cursor(page[-1]) if len(rows) > limit else None)

    async def expired_sessions(self, agent: str, now: str, limit: int) -> list[SessionSummary]:
        """Summaries with ``expires_at <= now``, earliest first (the partial expiry index)."""
        check_session(agent, "x")
        sql = (
            _SELECT
            + "agent = ? AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at, session LIMIT ?"
        )
        return [_summary(row) for row in await self._read(sql, (agent, now, check_limit(limit)))]
