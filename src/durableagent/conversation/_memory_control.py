"""Turn-control marks of the memory store (``control.TurnControl``): a dict beside its ledger."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from durableagent.conversation.base import SessionRef, TurnRecord, check_request, check_session, decode_record
from durableagent.conversation.control import Mark, checked_ids, checked_mark


class MemoryMarks:
    """Mixin of ``MemoryConversationStore``: ``(agent, session) -> request id -> mark``."""

    _lock: threading.Lock
    _ledger: dict[tuple[str, str], dict[str, Any]]
    _marks: dict[tuple[str, str], dict[str, Mark]]
    _turns: dict[tuple[str, str], dict[str, dict[int, str]]]

    def _marks_of(self, agent: str, session: str) -> dict[str, Mark]:
        if not hasattr(self, "_marks"):
            self._marks = {}
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
