"""The interfaces a conversation store implements: :class:`ConversationStore` and :class:`TurnControl`.

Why: every backend (memory, SQLite, Azure Table storage) must behave identically, so the entity
relies on these calls only; the values they carry and the checks they apply are in ``base``.

Invariants of :class:`ConversationStore`:
* ``append_turn`` is an upsert keyed by ``(agent, session, incarnation, turn)``: last write wins.
* The session index holds at most one :class:`~base.SessionSummary` per ``(agent, session)``,
  written by the session's entity after each operation (one upsert a turn; ``touch_session``
  replaces it whole) and removed with the session (``drop_session``). Listing (newest activity
  first, ties by session id; keyset pages, cursors in ``paging``) and the expiry sweep (earliest
  ``expires_at`` first) read it, never entities or transcripts: Azure has no cheap way to enumerate
  entities, and a transcript is one partition per session.

Turn control (:class:`TurnControl`): a turn waits in its session entity's queue, and the entity runs
one operation at a time, so neither a cancel nor a reset can reach a queued or running turn through
the entity. They leave a durable *mark* on the request id instead, which the turn logic reads when
the request reaches the entity (and, while it runs, every ``base.POLL_SECONDS``):

* ``cancel`` (``POST .../turns/{id}/cancel``, or a run with ``multitask_strategy=interrupt``): a
  queued turn never runs; a running one stops at its next safe point (``entity/loop.py``);
* ``discarded`` (a session reset): the requests the reset discarded (those of the old request ledger
  and every ledger row) answer ``410 turn-discarded`` for ever after instead of "accepted"; a reset
  replaces every older mark of the session, so marks stay bounded by the ledger's size.

``find_turn`` finds a turn by its request id once the bounded request ledger forgot it, so a 202's
``Location`` answers for as long as the turn is in the transcript. Backends: the memory store, the
SQLite store's ``conv_marks`` table (``_sqlite_control``), Azure Table rows ``req~~<id>`` in the
session's partition (``_table_control``). A custom store without these methods still works
(``base.control_of`` is None): cancel answers 501 and resets leave no marks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # base imports this module (``control_of``): its names are for annotations only
    from durableagent.conversation.base import (
        Mark,
        RequestState,
        SessionPage,
        SessionRef,
        SessionSummary,
        TurnRecord,
    )


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
        """Upsert the session's summary in the session index."""
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


@runtime_checkable
class TurnControl(Protocol):
    """The store calls of turn control (the SQLite, memory and Azure Table stores have them)."""

    async def request_ids(self, agent: str, session: str) -> list[str]:
        """The ids of the session's ledger rows, oldest first (accepted, running, or the last one)."""
        ...

    async def register_request(self, agent: str, session: str, request_id: str) -> bool:
        """Give a new request its ledger row ("accepted"); False when it already had one (a retry).

        Not durable on its own in the local host's shared file (the signal and the batch that follow
        are); its order among the session's rows is the order ``request_ids`` reports.
        """
        ...

    async def set_mark(self, agent: str, session: str, request_id: str, mark: Mark) -> None:
        """Durably mark the request; a ``discarded`` mark is never replaced by ``cancel``."""
        ...

    async def mark_of(self, agent: str, session: str, request_id: str) -> Mark | None:
        """The request's mark, if any."""
        ...

    async def replace_marks(self, agent: str, session: str, discarded: Iterable[str]) -> None:
        """A reset: the session's only marks become ``discarded`` for ``discarded``."""
        ...

    async def find_turn(self, ref: SessionRef, request_id: str, newest: int) -> TurnRecord | None:
        """The turn of this session life written for ``request_id`` (the ledger forgot it), if any."""
        ...
