"""Reading a session entity's committed state from a route: its record, its ETag, a stored reply.

Routes read state through the public client API (``read_entity_state``); this module interprets
what comes back. Version-less (0.0.2b1) state is recognized but left for the entity to migrate on
its next operation; an unknown version is a 500 ``unsupported-state-version``, never a silent reset.
"""

from __future__ import annotations

from typing import Any

from durableagent.contract.problems import StoreUnavailable, UnsupportedStateVersion
from durableagent.conversation.base import SessionRef, StoreUnavailableError
from durableagent.entity.loop import run_async
from durableagent.entity.record import SessionRecord, is_legacy_state
from durableagent.entity.replies import run_result
from durableagent.entity.state import UnsupportedStateVersionError


def record_of(state: dict[str, Any] | None) -> SessionRecord | None:
    """The session record in ``state``; None when absent or still in the legacy shape."""
    if state is None or is_legacy_state(state):
        return None
    try:
        return SessionRecord.from_state(state)
    except UnsupportedStateVersionError:
        raise UnsupportedStateVersion(
            "This session was written by an unknown version of durableagent; it was left untouched."
        ) from None


def etag_of(state: dict[str, Any] | None) -> str | None:
    record = record_of(state)
    return record.etag if record is not None else None


async def reply_for(
    app: Any, agent: str, session: str, entry: dict[str, Any], state: dict[str, Any]
) -> dict[str, Any]:
    """The 200 body of a finished turn: kept in the ledger's outbox, else rebuilt from the transcript."""
    reply = entry.get("reply")
    if isinstance(reply, dict):
        return reply
    record = record_of(state)
    turn = entry.get("turn")
    if record is None or not isinstance(turn, int):
        raise StoreUnavailable("The turn's result is not available; retry shortly.", retry_after=1)
    ref = SessionRef(agent, session, record.incarnation)
    try:
        stored = await run_async(app.stores.store().get_turn(ref, turn))
    except StoreUnavailableError:
        stored = None
    if stored is None:
        raise StoreUnavailable("The turn's result is not available; retry shortly.", retry_after=1)
    return run_result(stored, session, structured=stored.value is not None)
