"""The session index: one summary row per live session, for listing and for idle expiry.

Why: listing an agent's sessions (newest activity first) and finding the sessions whose idle
time-to-live ran out must not scan entities or transcripts: on Azure there is no cheap way to
enumerate entities, and a transcript is one partition per session. So every backend keeps, next to
the transcripts, one :class:`SessionSummary` per session, written by the session's own entity after
each operation (one upsert: a constant cost per turn) and removed with the session
(``drop_session``). Two orders are served from it: by last activity (newest first, ties by session
id; keyset pages with an opaque cursor) and by expiry time (oldest first, for the sweep).

Invariants:
* at most one summary per ``(agent, session)``; ``touch_session`` replaces it whole;
* a cursor is opaque to callers: it names the last row of the previous page in the backend's own
  order, so pages never repeat or skip a row that did not move meanwhile;
* a malformed cursor is a :class:`InvalidCursorError` (a ``ValueError``), never a partial page.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from durableagent.session_id import IDENTIFIER

MAX_PAGE = 1000
"""The largest page a store returns (callers ask for fewer)."""


class InvalidCursorError(ValueError):
    """A listing cursor that this store did not issue (or that was altered)."""


@dataclass(frozen=True)
class SessionSummary:
    """What the index knows of one session (timestamps in the ``utc_now`` format)."""

    agent: str
    session: str
    created_at: str
    last_active_at: str
    turns: int
    expires_at: str | None  # None: the session never expires

    def __post_init__(self) -> None:
        """Raise ValueError for names that are not identifiers or a negative turn count."""
        for name in (self.agent, self.session):
            if not isinstance(name, str) or IDENTIFIER.fullmatch(name) is None:
                raise ValueError(f"session names must match {IDENTIFIER.pattern}")
        if isinstance(self.turns, bool) or not isinstance(self.turns, int) or self.turns < 0:
            raise ValueError("turns must be a non-negative int")


@dataclass(frozen=True)
class SessionPage:
    """One page of a listing: newest activity first; ``next_cursor`` None on the last page."""

    sessions: list[SessionSummary]
    next_cursor: str | None


def parse_time(text: str) -> datetime:
    """A stored timestamp (``...T06:42:56.123Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(moment: datetime) -> str:
    """``moment`` in the stored format (UTC, milliseconds, ``Z``)."""
    utc = moment.astimezone(timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expiry_of(last_active_at: str, ttl: timedelta | None) -> str | None:
    """When a session last active at ``last_active_at`` expires under ``ttl`` (None: never)."""
    return None if ttl is None else format_time(parse_time(last_active_at) + ttl)


def epoch_ms(text: str) -> int:
    """A stored timestamp as milliseconds since the epoch (the Azure Table keys' order)."""
    return int(parse_time(text).timestamp() * 1000 + 0.5)


def encode_cursor(key: str) -> str:
    """An opaque cursor for a backend's sort key (base64url, no padding)."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, prefix: str) -> str:
    """The sort key in ``cursor``; it must start with ``prefix``.

    Raises:
        InvalidCursorError: not a cursor this store issued.
    """
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError("the cursor is not one this listing issued") from None
    if not key.startswith(prefix) or not key.isprintable():
        raise InvalidCursorError("the cursor is not one this listing issued")
    return key


def check_limit(limit: int) -> int:
    """``limit`` if it is a page size in ``1..MAX_PAGE``; else ValueError."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be an int in 1..{MAX_PAGE}")
    return limit


def activity_cursor(summary: SessionSummary) -> str:
    """The cursor after ``summary`` in activity order (memory and SQLite stores)."""
    return encode_cursor(f"s|{summary.last_active_at}|{summary.session}")


def parse_activity_cursor(cursor: str) -> tuple[str, str]:
    """``(last_active_at, session)`` of an :func:`activity_cursor`.

    Raises:
        InvalidCursorError: not such a cursor.
    """
    parts = decode_cursor(cursor, "s|").split("|")
    if len(parts) != 3 or IDENTIFIER.fullmatch(parts[2]) is None:
        raise InvalidCursorError("the cursor is not one this listing issued")
    try:
        parse_time(parts[1])
    except ValueError:
        raise InvalidCursorError("the cursor is not one this listing issued") from None
    return parts[1], parts[2]
