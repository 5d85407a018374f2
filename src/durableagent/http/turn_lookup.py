"""What is known about one request of a session: its final answer, its mark, its progress.

Shared by ``GET .../turns/{id}`` and ``POST .../turns/{id}/cancel``. In order: the entity's request
ledger (the newest ``REQUEST_LEDGER_SIZE`` requests); the request's turn-control mark
(``conversation/store_protocol.py``: ``discarded`` after a reset, ``cancel``); its row in the store's
request ledger (accepted or running); and, when none of them knows it, the transcript itself
(``TurnControl.find_turn``), so a turn's ``Location`` answers for as long as the turn is in the
history (issue 11.2), not only while the bounded ledger remembers it.
"""

from __future__ import annotations

from dataclasses import dataclass

from durableagent.conversation.base import Mark, RequestState, SessionRef, TurnRecord, control_of
from durableagent.conversation.store_protocol import TurnControl
from durableagent.entity.loop import run_async
from durableagent.entity.record import LedgerEntry, SessionRecord, record_of
from durableagent.entity_client import EntityClient
from durableagent.http.edge import RouteContext
from durableagent.http.replies import Answer


@dataclass(frozen=True)
class RequestView:
    """One request as the stores know it (every part None when nothing knows it)."""

    answer: Answer | None = None
    mark: Mark | None = None
    progress: RequestState | None = None
    record: SessionRecord | None = None


def entry_of_turn(turn: TurnRecord) -> LedgerEntry:
    """The ledger entry a turn read back from the transcript stands for (its reply is rebuilt on demand)."""
    if turn.error is None:
        return LedgerEntry(fingerprint="", status=200, turn=turn.turn)
    status = turn.error.get("status")
    problem = {k: v for k, v in turn.error.items() if k in ("type", "title", "status", "detail")}
    return LedgerEntry(
        fingerprint="",
        status=status if isinstance(status, int) else 500,
        turn=turn.turn,
        problem=problem,  # type: ignore[arg-type]
    )


async def _from_transcript(control: TurnControl, record: SessionRecord, request_id: str) -> Answer | None:
    if record.turns < 1:
        return None
    ref = SessionRef(record.agent, record.session, record.incarnation)
    turn = await run_async(control.find_turn(ref, request_id, record.turns))
    return (entry_of_turn(turn), record) if turn is not None else None


async def view_request(
    ctx: RouteContext, entities: EntityClient, agent: str, session: str, request_id: str
) -> RequestView:
    """Everything the stores know about ``request_id`` of the session."""
    record = record_of(await entities.read(agent, session))
    entry = record.entry(request_id) if record is not None else None
    if record is not None and entry is not None:
        return RequestView(answer=(entry, record), record=record)
    store = ctx.store()
    control = control_of(store)
    mark = await run_async(control.mark_of(agent, session, request_id)) if control is not None else None
    progress = await run_async(store.request_state(agent, session, request_id))
    if mark is None and progress is None and control is not None and record is not None:
        return RequestView(answer=await _from_transcript(control, record, request_id), record=record)
    return RequestView(mark=mark, progress=progress, record=record)
