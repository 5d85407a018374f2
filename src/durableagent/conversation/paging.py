"""Paging the session index (``store_protocol.ConversationStore.list_sessions``): page sizes, cursors.

Invariants:
* a cursor is opaque to callers: it names the last row of the previous page in the backend's own
  order, so pages never repeat or skip a row that did not move meanwhile;
* a malformed cursor is a :class:`InvalidCursorError` (a ``ValueError``), never a partial page.
"""

from __future__ import annotations

import base64
import binascii

from durableagent.conversation.base import SessionSummary, parse_time
from durableagent.session_id import IDENTIFIER

MAX_PAGE = 1000
"""The largest page a store returns (callers ask for fewer)."""


class InvalidCursorError(ValueError):
    """A listing cursor that this store did not issue (or that was altered)."""


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
