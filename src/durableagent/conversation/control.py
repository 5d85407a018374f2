"""Turn control: marks that stop a request before (or while) it runs, kept next to the request ledger.

Why: a turn waits in its session entity's queue, and the entity runs one operation at a time, so
neither a cancel nor a reset can reach a queued or running turn through the entity itself. They
leave a durable *mark* on the request id in the conversation store instead, which the turn logic
reads when the request reaches the entity (and, while it runs, every ``POLL_SECONDS``):

* ``cancel`` (``POST .../turns/{id}/cancel``, or a run with ``multitask_strategy=interrupt``): a
  queued turn never runs; a running one stops at its next safe point (``entity/cancel.py``);
* ``discarded`` (a session reset): the requests the reset discarded (those of the old request ledger
  and every ledger row) answer ``410 turn-discarded`` for ever after instead of "accepted"; a reset
  replaces every older mark of the session, so marks stay bounded by the ledger's size.

``find_turn`` finds a turn by its request id once the bounded request ledger forgot it, so a 202's
``Location`` answers for as long as the turn is in the transcript.

Backends: the memory store (``_memory_control``), the SQLite store's ``conv_marks`` table
(``_sqlite_control``), Azure Table rows ``req~~<id>`` in the session's partition (``_table_control``).
A custom ``ConversationStore`` without these methods still works: cancel answers 501 and resets
leave no marks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol, runtime_checkable

from durableagent.conversation.base import SessionRef, TurnRecord, check_request, check_session

Mark = Literal["cancel", "discarded"]
MARKS: tuple[Mark, ...] = ("cancel", "discarded")
POLL_SECONDS = 1.0
"""How often a running turn reads its mark (a cancel from another process); in-process cancels are
delivered at once (``entity/cancel.py``)."""


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
    """``store`` as a :class:`TurnControl`, or None for a store without marks."""
    return store if isinstance(store, TurnControl) else None
