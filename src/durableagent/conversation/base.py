"""The ConversationStore interface: what the entity may rely on from any transcript backend.

Why: the entity state stays small (no history), so a session's transcript and its request ledger
live in an append-only store that must behave identically on every backend (memory, SQLite, Azure
Table storage). This module holds the shared vocabulary: the keys (:class:`SessionRef`), the
record (:class:`TurnRecord` and its JSON form), the :class:`ConversationStore` protocol, the
errors, and the validation every backend applies the same way.

Invariants:
* ``append_turn`` is an upsert keyed by ``(agent, session, incarnation, turn)``: last write wins.
* A record's JSON is at most :data:`MAX_STORED_RECORD_BYTES` (UTF-8) on every backend; a larger
  turn is refused (:class:`RecordTooLargeError`), never truncated. Apps cap turns lower
  (``AppOptions.max_reply_bytes``, ``turn_size``). Records above one Azure Table entity
  (:data:`MAX_RECORD_UTF16_UNITS`) are kept in blobs there (``large_values``).
* Names are validated before any backend sees them, so keys are always safe Azure Table keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any, Literal, Protocol, runtime_checkable

from durableagent.conversation.sessions import SessionPage, SessionSummary
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
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StoreError(Exception):
    """Base class of the conversation store's own errors."""


class StoreUnavailableError(StoreError):
    """The backend failed transiently (throttled, 5xx, unreachable, locked): retry later."""


class RecordTooLargeError(StoreError, ValueError):
    """A turn record is too large to store; it is refused whole, never truncated."""


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


def decode_record(text: str) -> TurnRecord:
    """The stored JSON back as a :class:`TurnRecord`."""
    return TurnRecord.from_json(text)


@runtime_checkable
class ConversationStore(Protocol):
    """Transcript + request ledger of every session. Every call that returned is durable."""

    async def begin_attempt(self, agent: str, session: str, request_id: str) -> int:
        """Durably count one more attempt of the request (1 the first time); mark it "running"."""
        ...

    async def mark_accepted(self, agent: str, session: str, request_id: str) -> None:
        """Record "accepted" for the request unless it already has a state."""
        ...

    async def request_state(self, agent: str, session: str, request_id: str) -> RequestState | None:
        """``"accepted"``, ``"running"``, or ``None`` for an unknown (or forgotten) request."""
        ...

    async def forget_request(self, agent: str, session: str, request_id: str) -> None:
        """Remove the request's ledger row (the entity calls it once the request completed)."""
        ...

    async def append_turn(self, ref: SessionRef, record: TurnRecord) -> None:
        """Upsert the record keyed by ``(ref, record.turn)``: the last write wins."""
        ...

    async def get_turn(self, ref: SessionRef, turn: int) -> TurnRecord | None:
        """One turn, or ``None`` when absent."""
        ...

    async def load_turns(self, ref: SessionRef, first: int, last: int) -> list[TurnRecord]:
        """Records with ``first <= turn <= last``, in turn order; missing turns are absent."""
        ...

    async def drop_session(self, agent: str, session: str) -> None:
        """Remove every turn of every incarnation, every ledger row and the summary of the session."""
        ...

    async def touch_session(self, summary: SessionSummary) -> None:
        """Upsert the session's summary in the index (``conversation.sessions``)."""
        ...

    async def get_session(self, agent: str, session: str) -> SessionSummary | None:
        """The session's summary, or ``None`` when the index has none."""
        ...

    async def list_sessions(self, agent: str, limit: int, cursor: str | None = None) -> SessionPage:
        """One page of the agent's sessions, newest activity first, after ``cursor``.

        Raises:
            InvalidCursorError: ``cursor`` was not issued by this store for this agent.
        """
        ...

    async def expired_sessions(self, agent: str, now: str, limit: int) -> list[SessionSummary]:
        """Up to ``limit`` of the agent's summaries with ``expires_at <= now``, earliest first."""
        ...

    async def aclose(self) -> None:
        """Release connections and clients; idempotent."""
        ...
