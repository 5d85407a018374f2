"""In-process ConversationStore: for unit tests and ``DURABLEAGENT_CONVERSATION_STORE=memory:``.

Why: tests and throwaway local runs need the store's exact semantics without a file or a
service. Records are kept as the same JSON text the durable backends store (so size limits and
JSON round-trips behave identically); nothing survives the process.

The ledger is cleaned by ``forget_request`` and ``drop_session``; it is not otherwise bounded.
Turn-control marks (``store_protocol.TurnControl``) are a dict beside the ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from durableagent.conversation.base import (
    MAX_TURN,
    Mark,
    RequestState,
    SessionPage,
    SessionRef,
    SessionSummary,
    TurnRecord,
    check_request,
    check_session,
    checked_ids,
    checked_mark,
    decode_record,
    encode_record,
)
from durableagent.conversation.paging import (
    activity_cursor,
    check_limit,
    parse_activity_cursor,
)

_Session = tuple[str, str]


class MemoryConversationStore:
    """Dictionaries guarded by one lock (calls may come from several threads)."""

    def __init__(self) -> None:
        """Start empty: no turns, no ledger rows."""
        self._lock = threading.Lock()
        # (agent, session) -> incarnation -> turn -> JSON text
        self._turns: dict[_Session, dict[str, dict[int, str]]] = {}
        # (agent, session) -> request_id -> (attempts, state)
        self._ledger: dict[_Session, dict[str, tuple[int, RequestState]]] = {}
        self._summaries: dict[_Session, SessionSummary] = {}
        # (agent, session) -> request_id -> mark
        self._marks: dict[_Session, dict[str, Mark]] = {}

    async def begin_attempt(self, agent: str, session: str, request_id: str) -> int:
        """Count one more attempt of the request (1 the first time) and mark it running."""
        check_request(agent, session, request_id)
        with self._lock:
            requests = self._ledger.setdefault((agent, session), {})
            attempts = requests.get(request_id, (0, "accepted"))[0] + 1
            requests[request_id] = (attempts, "running")
            return attempts

    async def mark_accepted(self, agent: str, session: str, request_id: str) -> None:
        """Record the request as accepted, with 0 attempts, unless it already has a state."""
        check_request(agent, session, request_id)
        with self._lock:
            self._ledger.setdefault((agent, session), {}).setdefault(request_id, (0, "accepted"))

    async def request_state(self, agent: str, session: str, request_id: str) -> RequestState | None:
        """``accepted``, ``running``, or None for an unknown (or forgotten) request."""
        check_request(agent, session, request_id)
        with self._lock:
            entry = self._ledger.get((agent, session), {}).get(request_id)
        return None if entry is None else entry[1]

    async def forget_request(self, agent: str, session: str, request_id: str) -> None:
        """Remove the request's ledger entry (and the session's ledger once it is empty)."""
        check_request(agent, session, request_id)
        with self._lock:
            requests = self._ledger.get((agent, session))
            if requests is not None:
                requests.pop(request_id, None)
                if not requests:
                    del self._ledger[(agent, session)]

    async def append_turn(self, ref: SessionRef, record: TurnRecord) -> None:
        """Store the record's JSON under ``(ref, turn)``, replacing any earlier one."""
        text = encode_record(record)
        with self._lock:
            lives = self._turns.setdefault((ref.agent, ref.session), {})
            lives.setdefault(ref.incarnation, {})[record.turn] = text

    async def get_turn(self, ref: SessionRef, turn: int) -> TurnRecord | None:
        """The turn of this session life, or None when absent."""
        with self._lock:
            text = self._turns.get((ref.agent, ref.session), {}).get(ref.incarnation, {}).get(turn)
        return None if text is None else decode_record(text)

    async def load_turns(self, ref: SessionRef, first: int, last: int) -> list[TurnRecord]:
        """Records with ``first <= turn <= last`` in turn order; missing turns are skipped."""
        first, last = max(first, 1), min(last, MAX_TURN)
        with self._lock:
            turns = self._turns.get((ref.agent, ref.session), {}).get(ref.incarnation, {})
            if last - first < len(turns):
                texts = [turns[t] for t in range(first, last + 1) if t in turns]
            else:
                texts = [turns[t] for t in sorted(turns) if first <= t <= last]
        return [decode_record(text) for text in texts]

    async def drop_session(self, agent: str, session: str) -> None:
        """Remove every incarnation's turns and every ledger entry of the session."""
        check_session(agent, session)
        with self._lock:
            self._turns.pop((agent, session), None)
            self._ledger.pop((agent, session), None)
            self._summaries.pop((agent, session), None)

    async def touch_session(self, summary: SessionSummary) -> None:
        """Replace the session's summary."""
        with self._lock:
            self._summaries[(summary.agent, summary.session)] = summary

    async def get_session(self, agent: str, session: str) -> SessionSummary | None:
        """The session's summary, if any."""
        with self._lock:
            return self._summaries.get((agent, session))

    async def list_sessions(self, agent: str, limit: int, cursor: str | None = None) -> SessionPage:
        """Sorted on each call (newest activity first, then by session id): fine for tests."""
        check_session(agent, "x")
        check_limit(limit)
        after = None if cursor is None else parse_activity_cursor(cursor)
        with self._lock:
            rows = [s for (a, _), s in self._summaries.items() if a == agent]
        rows.sort(key=lambda s: s.session)
        rows.sort(key=lambda s: s.last_active_at, reverse=True)  # stable: ties stay by session id
        if after is not None:
            active, session = after
            rows = [
                s
                for s in rows
                if s.last_active_at < active or (s.last_active_at == active and s.session > session)
            ]
        page, more = rows[:limit], len(rows) > limit
        last = page[-1] if page else None
        return SessionPage(page, activity_cursor(last) if more and last else None)

    async def expired_sessions(self, agent: str, now: str, limit: int) -> list[SessionSummary]:
        """Summaries with ``expires_at <= now``, earliest first."""
        with self._lock:
            rows = [
                s
                for (a, _), s in self._summaries.items()
                if a == agent and s.expires_at is not None and s.expires_at <= now
            ]
        return sorted(rows, key=lambda s: (s.expires_at or "", s.session))[:limit]

    def _marks_of(self, agent: str, session: str) -> dict[str, Mark]:
        return self._marks.setdefault((agent, session), {})

    async def request_ids(self, agent: str, session: str) -> list[str]:
        """The ids of the session's ledger rows."""
        check_session(agent, session)
        with self._lock:
            return list(self._ledger.get((agent, session), {}))

    async def register_request(self, agent: str, session: str, request_id: str) -> bool:
        """Add an accepted row unless the request has one; whether it was added."""
        checked_mark(agent, session, request_id, "cancel")
        with self._lock:
            rows = self._ledger.setdefault((agent, session), {})
            if request_id in rows:
                return False
            rows[request_id] = (0, "accepted")
            return True

    async def set_mark(self, agent: str, session: str, request_id: str, mark: Mark) -> None:
        """Mark the request (``discarded`` is never replaced by ``cancel``)."""
        mark = checked_mark(agent, session, request_id, mark)
        with self._lock:
            marks = self._marks_of(agent, session)
            if marks.get(request_id) != "discarded":
                marks[request_id] = mark

    async def mark_of(self, agent: str, session: str, request_id: str) -> Mark | None:
        """The request's mark, if any."""
        checked_mark(agent, session, request_id, "cancel")
        with self._lock:
            return self._marks_of(agent, session).get(request_id)

    async def replace_marks(self, agent: str, session: str, discarded: Iterable[str]) -> None:
        """The session's only marks become ``discarded`` for ``discarded``."""
        ids = checked_ids(agent, session, discarded)
        with self._lock:
            marks = self._marks_of(agent, session)
            marks.clear()
            marks.update(dict.fromkeys(ids, "discarded"))

    async def find_turn(self, ref: SessionRef, request_id: str, newest: int) -> TurnRecord | None:
        """The newest turn of ``ref`` written for ``request_id`` (a scan; the memory store is for tests)."""
        check_request(ref.agent, ref.session, request_id)
        with self._lock:
            turns = dict(self._turns.get((ref.agent, ref.session), {}).get(ref.incarnation, {}))
        for number in sorted((n for n in turns if n <= newest), reverse=True):
            record = decode_record(turns[number])
            if record.request_id == request_id:
                return record
        return None

    async def aclose(self) -> None:
        """Nothing to release: the dictionaries go with the object."""
        return None
