"""Idle expiry of sessions: the summary an operation leaves in the index, and the ``expire`` check.

Why a sweep and not a scheduled signal: the natural primitive, an entity signalling itself at its
expiry time (what the .NET host does with scheduled self-signals), does not exist for Python apps on
the 1.x stack. azure-functions-durable 1.x has no ``signal_entity`` on ``DurableEntityContext`` and
the client's ``DurableOrchestrationClient.signal_entity(entityId, operation_name, operation_input,
task_hub_name, connection_name)`` takes no scheduled time (``models/DurableOrchestrationClient.py``);
an entity's ``EntityState.signals`` is always empty (``models/entities/EntityState.py``). A durable
timer would need one orchestration per session, re-armed by an event on every turn. So:

* after each operation that changed the record, the entity upserts its :class:`SessionSummary`
  (``last_active_at`` = the record's ``updated_at``, ``expires_at`` = that plus the agent's TTL):
  one index write per turn, whatever the session's length;
* a timer function (``durableagent.sweep``) asks the store for summaries whose ``expires_at`` has
  passed (an index range, never a scan) and signals each entity ``expire``;
* ``expire`` runs in the entity, serialized with its turns, and deletes the session only if it is
  still idle by its own record (a turn queued before the signal wins); otherwise it corrects the
  summary. Both the index and the entity state are durable, so a restart loses nothing: the next
  sweep finds what the last one did not finish.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from durableagent.conversation.base import SessionSummary, StoreUnavailableError, expiry_of, parse_time
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity.record import SessionRecord

logger = logging.getLogger("durableagent.expiry")
EXPIRED_RESULT = {"status": "expired"}
ACTIVE_RESULT = {"status": "active"}


def summary_of(record: SessionRecord, ttl: timedelta | None) -> SessionSummary:
    """The index row of ``record`` under ``ttl``."""
    return SessionSummary(
        agent=record.agent,
        session=record.session,
        created_at=record.created_at,
        last_active_at=record.updated_at,
        turns=record.turns,
        expires_at=expiry_of(record.updated_at, ttl),
    )


def is_idle(record: SessionRecord, ttl: timedelta | None, now: datetime | None = None) -> bool:
    """Whether ``record`` has been idle for longer than ``ttl`` (never, without one)."""
    if ttl is None:
        return False
    return parse_time(record.updated_at) + ttl <= (now or datetime.now(timezone.utc))


async def record_activity(store: ConversationStore, record: SessionRecord, ttl: timedelta | None) -> None:
    """Upsert the session's summary; a store outage is logged, not raised.

    The turn is already written and its answer must reach the caller: a summary that could not be
    written is corrected by the session's next operation (or its next ``expire`` check).
    """
    try:
        await store.touch_session(summary_of(record, ttl))
    except StoreUnavailableError:
        logger.warning("session index of %s not updated (store unavailable)", record.agent)
