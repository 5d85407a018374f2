"""In-process ConversationStore: for unit tests and ``DURABLEAGENT_CONVERSATION_STORE=memory:``.

Why: tests and throwaway local runs need the store's exact semantics without a file or a
service. Records are kept as the same JSON text the durable backends store (so size limits and
JSON round-trips behave identically); nothing survives the process.

The ledger is cleaned by ``forget_request`` and ``drop_session``; it is not otherwise bounded.
"""

from __future__ import annotations

import threading

from durableagent.conversation._memory_control import MemoryMarks
from durableagent.conversation.base import (
    MAX_TURN,
    RequestState,
    SessionRef,
    TurnRecord,
    check_request,
    check_session,
    decode_record,
    encode_record,
)

_Session = tuple[str, str]


class MemoryConversationStore(MemoryMarks):
    """Dictionaries guarded by one lock (calls may come from several threads)."""

    def __init__(self) -> None:
        """Start empty: no turns, no ledger rows."""
        self._lock = threading.Lock()
        # (agent, session) -> incarnation -> turn -> JSON text
        self._turns: dict[_Session, dict[str, dict[int, str]]] = {}
        # (agent, session) -> request_id -> (attempts, state)
        self._ledger: dict[_Session, dict[str, tuple[int, RequestState]]] = {}

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

    async def aclose(self) -> None:
        """Nothing to release: the dictionaries go with the object."""
        return None
