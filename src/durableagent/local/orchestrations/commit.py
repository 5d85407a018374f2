"""Commit one episode's outcome in a single SQLite transaction.

Why: an episode's history, status, consumed messages, new timers, activity work, entity messages,
child starts and parent notification must become durable together: a crash before COMMIT replays
the same episode from the same messages, a crash after it re-dispatches the committed work. This
module is the only writer of an episode's results.

Invariant: the commit is refused (returns ``None``, nothing written) when the instance changed
under the episode (purged, or replaced by a new start); the caller then reloads and runs again.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from durableagent import _faults
from durableagent.local import entity_mailbox
from durableagent.local.orchestrations import tables, work
from durableagent.local.orchestrations.model import (
    ChildStart,
    EpisodeOutcome,
    InstanceSnapshot,
    MessageKind,
    ParentRef,
)
from durableagent.local.wire import orchestration_json as wire


@dataclass
class Effects:
    """What to set in motion after COMMIT."""

    wake_instances: set[str] = field(default_factory=set)
    wake_entities: set[str] = field(default_factory=set)
    activities: list[work.ActivityRow] = field(default_factory=list)
    timers_changed: bool = False


def commit_outcome(
    conn: sqlite3.Connection, snap: InstanceSnapshot, out: EpisodeOutcome, now: datetime
) -> Effects | None:
    """Write ``out`` for the episode that started from ``snap``, in the caller's transaction.

    Returns:
        What to set in motion once the transaction commits, or None (nothing written) when the
        instance changed under the episode: purged, restarted, or given more history meanwhile.
    """
    iid, execution = snap.instance_id, snap.execution_id
    row = tables.get_instance(conn, iid)
    if row is None or row.execution_id != execution or tables.history_length(conn, iid) != len(snap.history):
        return None
    stamp = wire.format_time(now)
    effects = Effects()
    conn.executemany("DELETE FROM orch_messages WHERE id = ?", [(i,) for i in out.consumed])
    tables.append_history(conn, iid, len(snap.history), out.history)
    for job in out.activities:
        work_id = work.add_activity(conn, iid, execution, job.seq, job.name, job.input_text, stamp)
        effects.activities.append(
            work.ActivityRow(work_id, iid, execution, job.seq, job.name, job.input_text)
        )
    for timer in out.timers:
        fired = wire.timer_fired(timer.fire_at, timer.seq, timer.fire_at)
        tables.post(
            conn,
            iid,
            MessageKind.COMPLETION,
            visible_at=wire.format_time(timer.fire_at),
            execution_id=execution,
            event=fired,
            timer_seq=timer.seq,
        )
        effects.timers_changed = True
    for seq in out.cancel_timers:
        conn.execute(
            "DELETE FROM orch_messages WHERE instance_id = ? AND execution_id = ? AND timer_seq = ?",
            (iid, execution, seq),
        )
    for own in out.self_messages:
        tables.post(
            conn, iid, MessageKind.COMPLETION, visible_at=stamp, execution_id=execution, event=own.event
        )
    for message in out.entity_messages:
        entity_mailbox.enqueue(
            conn,
            message.target,
            message.operation,
            message.input_text,
            is_signal=message.is_signal,
            request_id=message.request_id,
            parent_instance=None if message.is_signal else iid,
        )
        effects.wake_entities.add(message.target)
    for child in out.children:
        _start_child(conn, snap, child, now, effects)
    if out.parent_event is not None and snap.parent is not None and _parent_waits(conn, snap.parent):
        tables.post(
            conn,
            snap.parent.instance_id,
            MessageKind.COMPLETION,
            visible_at=stamp,
            execution_id=snap.parent.execution_id,
            event=out.parent_event,
        )
        effects.wake_instances.add(snap.parent.instance_id)
    _update_instance(conn, snap, out, stamp)
    effects.wake_instances.add(iid)
    _faults.crash_point("host.orchestration.in_commit")
    return effects


def _update_instance(
    conn: sqlite3.Connection, snap: InstanceSnapshot, out: EpisodeOutcome, stamp: str
) -> None:
    iid = snap.instance_id
    custom = out.custom_status_text if out.custom_status_set else None
    if out.new_execution_id is not None:  # ContinueAsNew: a fresh execution, held events carry over
        for table in ("orch_history", "orch_activities"):
            conn.execute(f"DELETE FROM {table} WHERE instance_id = ?", (iid,))  # noqa: S608 - fixed names
        conn.execute(
            "DELETE FROM orch_messages WHERE instance_id = ? AND execution_id = ?", (iid, snap.execution_id)
        )
        conn.execute(
            "UPDATE orch_instances SET execution_id = ?, input = ?, status = ?, engine_state = ?,"
            " last_updated = ?, custom_status = coalesce(?, custom_status) WHERE instance_id = ?",
            (
                out.new_execution_id,
                out.new_input_text,
                out.status.value,
                out.state.to_json(),
                stamp,
                custom,
                iid,
            ),
        )
        tables.post(conn, iid, MessageKind.START, visible_at=stamp, execution_id=out.new_execution_id)
        return
    if out.status.is_terminal:
        conn.execute("DELETE FROM orch_messages WHERE instance_id = ?", (iid,))
        conn.execute("DELETE FROM orch_activities WHERE instance_id = ?", (iid,))
        conn.execute(
            "UPDATE orch_instances SET status = ?, output = ?, engine_state = ?, last_updated = ?,"
            " custom_status = coalesce(?, custom_status) WHERE instance_id = ?",
            (out.status.value, out.output_text, out.state.to_json(), stamp, custom, iid),
        )
        return
    conn.execute(
        "UPDATE orch_instances SET status = ?, engine_state = ?, last_updated = ?,"
        " custom_status = coalesce(?, custom_status) WHERE instance_id = ?",
        (out.status.value, out.state.to_json(), stamp, custom, iid),
    )


def _start_child(
    conn: sqlite3.Connection, snap: InstanceSnapshot, child: ChildStart, now: datetime, effects: Effects
) -> None:
    """Create the sub-orchestration, or fail the call at once when a running instance has its id.

    ``child.version`` was settled by the runtime (explicit, else host.json ``defaultVersion``).
    """
    child_id, seq = child.instance_id, child.parent_seq
    stamp = wire.format_time(now)
    existing = tables.get_instance(conn, child_id)
    if existing is not None and existing.is_running:
        reason = f"An Orchestration instance with the status {existing.status.value} already exists."
        tables.post(
            conn,
            snap.instance_id,
            MessageKind.COMPLETION,
            visible_at=stamp,
            execution_id=snap.execution_id,
            event=wire.sub_orchestration_failed(now, seq, reason, None),
        )
        return
    parent = ParentRef(snap.instance_id, snap.execution_id, seq)
    tables.create_instance(
        conn, child_id, child.name, uuid.uuid4().hex, child.input_text, stamp, parent, child.version
    )
    effects.wake_instances.add(child_id)


def _parent_waits(conn: sqlite3.Connection, parent: ParentRef) -> bool:
    """The parent still exists in the execution that started this sub-orchestration."""
    row = tables.get_instance(conn, parent.instance_id)
    return row is not None and row.execution_id == parent.execution_id and not row.status.is_terminal
