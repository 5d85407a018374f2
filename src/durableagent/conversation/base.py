"""The conversation store's values and checks: what every backend stores and validates alike.

Why: the entity state stays small (no history), so a session's transcript, request ledger, turn
marks and index summary live in a store that must behave identically on every backend (memory,
SQLite, Azure Table storage). This module holds what the store's calls carry and check: the keys
(:class:`SessionRef`), the record (:class:`TurnRecord` and its JSON form), the session summary
(:class:`SessionSummary`, :class:`SessionPage`), the marks of turn control (:data:`Mark`), the
errors, the one timestamp format (:func:`utc_now`, :func:`parse_time`, :func:`format_time`) and the
validation every backend applies the same way. The interfaces a store implements are in
``store_protocol``; listing cursors in ``paging``.

Invariants:
* A record's JSON is at most :data:`MAX_STORED_RECORD_BYTES` (UTF-8) on every backend; a larger
  turn is refused (:class:`RecordTooLargeError`), never truncated. Apps cap turns lower
  (``AppOptions.max_reply_bytes``, :func:`check_turn_size`). Records above one Azure Table entity
  (:data:`MAX_RECORD_UTF16_UNITS`) are kept in blobs there (``large_values``).
* Names are validated before any backend sees them, so keys are always safe Azure Table keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from durableagent.conversation.store_protocol import TurnControl
from durableagent.session_id import IDENTIFIER

RequestState = Literal["accepted", "running"]
INCARNATION = re.compile(r"[A-Za-z0-9_-]{1,64}")
REQUEST_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
MAX_TURN = 9_999_999_999
"""Turns are stored zero-padded to 10 digits so that key order is numeric order."""
MAX_RECORD_UTF16_UNITS = 500_000
"""≈ 1,000,000 bytes as Azure Table storage counts strings (UTF-16), leaving room under the
1 MiB entity limit for keys and property overhead: the largest record kept in a table row."""
MAX_STORED_RECORD_BYTES = 64 * 1024 * 1024
"""The largest record JSON any backend stores (UTF-8 bytes): the backstop behind the app's cap."""
_RESERVED_INCARNATION = "req"  # Azure Table ledger rows are "req~<id>": an incarnation may not be it.


def utc_now() -> str:
    """The current time as records store it: ISO 8601 UTC, milliseconds, ``Z`` (``...T06:42:56.123Z``).

    The one timestamp format of durableagent (transcripts, entity records, the local host's tables,
    whose SQL writes it as ``strftime('%Y-%m-%dT%H:%M:%fZ', 'now')``): it sorts as a string.
    """
    return format_time(datetime.now(timezone.utc))


def format_time(moment: datetime) -> str:
    """``moment`` in the stored format (UTC, milliseconds, ``Z``)."""
    utc = moment.astimezone(timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """A stored timestamp (``...T06:42:56.123Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def expiry_of(last_active_at: str, ttl: timedelta | None) -> str | None:
    """When a session last active at ``last_active_at`` expires under ``ttl`` (None: never)."""
    return None if ttl is None else format_time(parse_time(last_active_at) + ttl)


def epoch_ms(text: str) -> int:
    """A stored timestamp as milliseconds since the epoch (the Azure Table keys' order)."""
    return int(parse_time(text).timestamp() * 1000 + 0.5)


class StoreError(Exception):
    """Base class of the conversation store's own errors."""


class StoreUnavailableError(StoreError):
    """The backend failed transiently (throttled, 5xx, unreachable, locked): retry later."""


class RecordTooLargeError(StoreError, ValueError):
    """A turn record is too large to store; it is refused whole, never truncated."""


class ReplyTooLargeError(RecordTooLargeError):
    """The turn's record is over the app's ``max_reply_bytes``: refused before anything is written."""


def _check(pattern: re.Pattern[str], value: object, what: str) -> None:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ValueError(f"{what} must match {pattern.pattern}")


def check_session(agent: str, session: str) -> None:
    """Raise ``ValueError`` unless ``agent`` and ``session`` are valid identifiers."""
    _check(IDENTIFIER, agent, "agent")
    _check(IDENTIFIER, session, "session")


def check_request(agent: str, session: str, request_id: str) -> None:
    """Raise ``ValueError`` unless the ledger key is valid."""
    check_session(agent, session)
    _check(REQUEST_ID, request_id, "request_id")


@dataclass(frozen=True)
class SessionRef:
    """The key of one session life: transcript rows are keyed by all three fields."""

    agent: str  # agent name as registered (case preserved)
    session: str  # session key
    incarnation: str  # SessionRecord.incarnation: random per session life

    def __post_init__(self) -> None:
        """Raise ValueError unless all three fields are valid keys (and the incarnation is not ``req``)."""
        check_session(self.agent, self.session)
        _check(INCARNATION, self.incarnation, "incarnation")
        if self.incarnation == _RESERVED_INCARNATION:
            raise ValueError(f"incarnation {_RESERVED_INCARNATION!r} is reserved")


@dataclass
class TurnRecord:
    """One turn of a transcript, as stored (JSON text)."""

    turn: int  # 1-based
    request_id: str
    role: str  # "user" | "system"
    user: dict[str, Any]  # Message.to_dict() of the user message
    reply: dict[str, Any] | None  # AgentResponse.to_dict(), None for failed turns
    value: Any  # structured output (None when not requested)
    error: dict[str, Any] | None  # {"type","title","status"} for failed turns
    started_at: str  # ISO 8601 UTC
    completed_at: str

    def __post_init__(self) -> None:
        """Raise ValueError unless ``turn`` is an int in ``1..MAX_TURN``."""
        if isinstance(self.turn, bool) or not isinstance(self.turn, int) or not 1 <= self.turn <= MAX_TURN:
            raise ValueError(f"turn must be an int in 1..{MAX_TURN}")

    def to_json(self) -> str:
        """Compact, deterministic JSON. Raises ``TypeError``/``ValueError`` for non-JSON values."""
        data = {f.name: getattr(self, f.name) for f in _RECORD_FIELDS}  # asdict() would deep-copy the reply
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: only the escaped form is valid UTF-8 / UTF-16
            text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        return text

    @classmethod
    def from_json(cls, text: str) -> TurnRecord:
        """Parse :meth:`to_json` output; unknown keys (a newer writer) are ignored."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a turn record must be a JSON object")
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError(f"turn record lacks {', '.join(missing)}")
        for name in ("request_id", "role", "started_at", "completed_at"):
            if not isinstance(data[name], str):
                raise ValueError(f"turn record field {name} must be a string")
        for name, optional in (("user", False), ("reply", True), ("error", True)):
            if not (isinstance(data[name], dict) or (optional and data[name] is None)):
                raise ValueError(f"turn record field {name} must be an object")
        return cls(**{name: data[name] for name in names})


def text_of(message: Mapping[str, Any]) -> str:
    """The text of a stored message (``Message.to_dict()``): its text contents, concatenated."""
    return "".join(
        str(c.get("text", ""))
        for c in message.get("contents") or ()
        if isinstance(c, Mapping) and c.get("type") == "text"
    )


_RECORD_FIELDS = fields(TurnRecord)


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (``TurnRecord.to_json`` escapes lone surrogates, so it encodes)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def utf16_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how Azure Table storage sizes strings)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def encode_record(record: TurnRecord) -> str:
    """``record.to_json()``, refused with :class:`RecordTooLargeError` beyond the size limit."""
    text = record.to_json()
    limit = MAX_STORED_RECORD_BYTES  # read at each call: tests lower it
    if len(text) > limit // 4 and (size := len(text.encode("utf-8"))) > limit:
        raise RecordTooLargeError(
            f"turn {record.turn} is {size} bytes of JSON; at most {limit} can be stored"
        )
    return text


def check_turn_size(record: TurnRecord, max_bytes: int) -> None:
    """Raise :class:`ReplyTooLargeError` when the record's JSON is over the app's ``max_bytes`` (UTF-8).

    Checked by the entity before any write; it lives here, not in ``large_values`` (the blob side),
    because the entity must not import the Azure SDK.
    """
    text = record.to_json()
    if len(text) <= max_bytes // 4:  # at most 4 bytes a character: surely under the cap
        return
    size = utf8_size(text)
    if size > max_bytes:
        raise ReplyTooLargeError(
            f"turn {record.turn} is {size} bytes of JSON; the app stores at most {max_bytes}"
        )


def decode_record(text: str) -> TurnRecord:
    """The stored JSON back as a :class:`TurnRecord`."""
    return TurnRecord.from_json(text)


@dataclass(frozen=True)
class SessionSummary:
    """What the session index knows of one session (timestamps in the ``utc_now`` format)."""

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


# Turn control (``store_protocol.TurnControl``): a durable mark on a request id stops the turn.
Mark = Literal["cancel", "discarded"]
MARKS: tuple[Mark, ...] = ("cancel", "discarded")
POLL_SECONDS = 1.0
"""How often a running turn reads its mark (a cancel from another process); in-process cancels are
delivered at once (``entity/loop.py``)."""


def checked_mark(agent: str, session: str, request_id: str, mark: str) -> Mark:
    """Validate the key and the mark; returns the mark typed."""
    check_request(agent, session, request_id)
    if mark not in MARKS:
        raise ValueError(f"mark must be one of {', '.join(MARKS)}")
    return mark


def checked_ids(agent: str, session: str, ids: Iterable[str]) -> list[str]:
    """Validate every id of a reset's discarded set; returns them deduplicated, in order."""
    check_session(agent, session)
    out = list(dict.fromkeys(ids))
    for request_id in out:
        check_request(agent, session, request_id)
    return out


def control_of(store: object) -> TurnControl | None:
    """``store`` as a :class:`~store_protocol.TurnControl`, or None for a store without marks."""
    return store if isinstance(store, TurnControl) else None
