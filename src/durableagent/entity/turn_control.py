"""The turn logic's side of turn control (``conversation/control.py``): read a request's mark, scope its run.

Kept apart from ``entity/turn.py`` so the commit protocol there reads as before: a ``discarded``
request answers ``410 turn-discarded`` and never runs, a ``cancel``-marked one is recorded once as
``turn-cancelled`` without running, and a running one gets a :class:`~durableagent.entity.cancel.CancelScope`.
"""

from __future__ import annotations

from durableagent.conversation.base import Mark, control_of
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity.cancel import CancelScope, TurnCancelledError
from durableagent.entity.record import SessionRecord


async def marked(store: ConversationStore, agent: str, session: str, request_id: str) -> Mark | None:
    """The request's mark (None when the store keeps no marks): one point read per turn."""
    control = control_of(store)
    return await control.mark_of(agent, session, request_id) if control is not None else None


def cancel_scope(store: ConversationStore, agent: str, session: str, request_id: str) -> CancelScope:
    """The scope of a turn's agent call: cancels in this process, and the store's mark from any other."""
    control = control_of(store)

    async def cancelled() -> bool:
        return control is not None and await control.mark_of(agent, session, request_id) == "cancel"

    return CancelScope((agent, session, request_id), cancelled if control is not None else None)


def is_cancel(exc: BaseException) -> bool:
    """Whether the agent call ended because a cancel stopped it."""
    return isinstance(exc, TurnCancelledError)


async def reset_session(
    store: ConversationStore, agent: str, session: str, record: SessionRecord | None
) -> None:
    """Drop the session's transcript and ledger, leaving ``discarded`` marks on its requests.

    Marked: the request ids of the old record's ledger and of every ledger row (a turn accepted
    or running when the reset came). So a 202's ``Location`` answers ``410 turn-discarded`` after a
    reset instead of "accepted" for ever, and a request signalled before the reset that is
    delivered again never runs in the session's new life. A crash in between runs the reset again:
    the record is still the old one, so the marks come out the same.
    """
    control = control_of(store)
    ids = [
        *(record.requests if record is not None else ()),
        *(await control.request_ids(agent, session) if control else ()),
    ]
    await store.drop_session(agent, session)
    if control is not None:
        await control.replace_marks(agent, session, ids)
