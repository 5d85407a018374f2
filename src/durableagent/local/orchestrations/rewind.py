"""Rewind a failed orchestration: forget its failures and run the failed work again.

Why: ``client.rewind(instance_id, reason)`` (``POST instances/{id}/rewind``) is accepted for a
failed instance (``HttpApiHandler.HandleRewindInstanceRequestAsync``: 404 unknown, 410 completed,
canceled or terminated; ``DurableClient.RewindAsync`` refuses any other non-failed state) and the
storage provider rewrites the history so the failed tasks run again (DTFx
``RewindTaskOrchestrationAsync``), recursively for failed sub-orchestrations, then wakes the
instance. Here, in one transaction:

* the failure events go (``TaskFailed``, ``SubOrchestrationInstanceFailed``, the failed
  ``ExecutionCompleted``); the scheduling events stay, so the SDK's sequence numbers still match;
* every task scheduled but not answered is dispatched again (activities and ``call_http`` work,
  timers not yet fired, sub-orchestrations: a failed child is rewound, a missing one created, a
  completed one reports again);
* the instance is Running, and a ``GenericEvent`` message makes it replay at once (an orchestrator
  that failed by itself then runs again from its history).

Not rewound: a failure inside ``call_*_with_retry`` (the retry bookkeeping of the final attempt is
gone), reported as :class:`RewindRefused`; entity calls in flight when the instance failed (their
answers were dropped) are not sent again.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime

from durableagent.local.orchestrations import tables, work
from durableagent.local.orchestrations.commit import Effects
from durableagent.local.orchestrations.model import EngineState, MessageKind, ParentRef, RuntimeStatus
from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.orchestration_json import EventType, HistoryEvent

_FAILURES = (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_FAILED)
_DROPPED = (*_FAILURES, EventType.EXECUTION_COMPLETED, EventType.EXECUTION_FAILED)
_ANSWERS = {
    EventType.TASK_SCHEDULED: (EventType.TASK_COMPLETED,),
    EventType.SUB_ORCHESTRATION_CREATED: (EventType.SUB_ORCHESTRATION_COMPLETED,),
    EventType.TIMER_CREATED: (EventType.TIMER_FIRED,),
}


class RewindRefused(Exception):
    """The instance cannot be rewound here (``message`` says why)."""

    def __init__(self, message: str) -> None:
        """Keep ``message``, the reason given in the 501 answer."""
        super().__init__(message)
        self.message = message


def _seq(event: HistoryEvent) -> object:
    kind = event.get("EventType")
    if kind == EventType.TIMER_FIRED:
        return event.get("TimerId")
    if kind in (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_CREATED, EventType.TIMER_CREATED):
        return event.get("EventId")
    return event.get("TaskScheduledId")


def _unanswered(history: list[HistoryEvent]) -> list[HistoryEvent]:
    answered = {(e.get("EventType"), _seq(e)) for e in history}
    return [
        e
        for e in history
        if e.get("EventType") in _ANSWERS
        and not any((answer, _seq(e)) in answered for answer in _ANSWERS[e["EventType"]])
    ]


def rewind(conn: sqlite3.Connection, instance_id: str, reason: str | None, now: datetime) -> Effects:
    """Rewind ``instance_id`` (which must be Failed) and, recursively, its failed children."""
    effects = Effects()
    _rewind(conn, instance_id, reason, now, effects, depth=0)
    return effects


def _rewind(
    conn: sqlite3.Connection, iid: str, reason: str | None, now: datetime, effects: Effects, depth: int
) -> None:
    row = tables.get_instance(conn, iid)
    if row is None or row.status is not RuntimeStatus.FAILED or depth > 64:
        return
    state = EngineState.from_json(row.engine_state)
    history = tables.history(conn, iid)
    if any(e.get("EventType") in _FAILURES and _seq(e) in state.retry_owner for e in history):
        raise RewindRefused(
            f"Instance {iid} failed inside call_activity_with_retry/call_sub_orchestrator_with_retry;"
            " the local host cannot rewind such a failure."
        )
    kept = [e for e in history if e.get("EventType") not in _DROPPED]
    stamp = wire.format_time(now)
    conn.execute("DELETE FROM orch_history WHERE instance_id = ?", (iid,))
    tables.append_history(conn, iid, 0, kept)
    for event in _unanswered(kept):
        seq = int(str(_seq(event)))
        kind = event["EventType"]
        if kind == EventType.TASK_SCHEDULED:
            name, input_text = str(event.get("Name")), event.get("Input")
            work_id = work.add_activity(conn, iid, row.execution_id, seq, name, input_text, stamp)
            effects.activities.append(work.ActivityRow(work_id, iid, row.execution_id, seq, name, input_text))
        elif kind == EventType.TIMER_CREATED:
            fire_at = wire.parse_time(str(event.get("FireAt")))
            fired = wire.timer_fired(fire_at, seq, fire_at)
            tables.post(
                conn,
                iid,
                MessageKind.COMPLETION,
                visible_at=wire.format_time(fire_at),
                execution_id=row.execution_id,
                event=fired,
                timer_seq=seq,
            )
            effects.timers_changed = True
        else:
            _child(conn, row, event, seq, reason, now, effects, depth)
    generic = {"EventType": int(EventType.GENERIC), "EventId": -1, "IsPlayed": False, "Timestamp": stamp}
    generic["Data"] = f"Rewound: {reason}" if reason else "Rewound"
    tables.post(
        conn, iid, MessageKind.COMPLETION, visible_at=stamp, execution_id=row.execution_id, event=generic
    )
    conn.execute(
        "UPDATE orch_instances SET status = ?, output = NULL, last_updated = ? WHERE instance_id = ?",
        (RuntimeStatus.RUNNING.value, stamp, iid),
    )
    effects.wake_instances.add(iid)


def _child(
    conn: sqlite3.Connection,
    parent: tables.InstanceRow,
    event: HistoryEvent,
    seq: int,
    reason: str | None,
    now: datetime,
    effects: Effects,
    depth: int,
) -> None:
    child_id = str(event.get("InstanceId") or "")
    child = tables.get_instance(conn, child_id) if child_id else None
    if child is not None and child.status is RuntimeStatus.FAILED:
        _rewind(conn, child_id, reason, now, effects, depth + 1)
    elif child is not None and child.status is RuntimeStatus.COMPLETED:
        done = wire.sub_orchestration_completed(now, seq, child.output)
        tables.post(
            conn,
            parent.instance_id,
            MessageKind.COMPLETION,
            visible_at=wire.format_time(now),
            execution_id=parent.execution_id,
            event=done,
        )
    elif child is None or child.status.is_terminal:
        ref = ParentRef(parent.instance_id, parent.execution_id, seq)
        name, input_text = str(event.get("Name")), event.get("Input")
        version = str(event.get("Version")) if event.get("Version") else None
        stamp = wire.format_time(now)
        tables.create_instance(conn, child_id, name, uuid.uuid4().hex, input_text, stamp, ref, version)
        effects.wake_instances.add(child_id)
