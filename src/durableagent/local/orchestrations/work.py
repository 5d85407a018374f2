"""SQL over the work queues of migration 0002: activity rows and due messages (timers).

Why: activities are at-least-once because their row outlives the invocation and is deleted in the
same transaction that posts the result; timers are messages that become visible later, so the
timer loop only needs "which instances have messages that just became due". Both live here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from durableagent.local.orchestrations.model import MessageKind
from durableagent.local.orchestrations.tables import post
from durableagent.local.wire.orchestration_json import HistoryEvent


def add_activity(
    conn: sqlite3.Connection,
    instance_id: str,
    execution_id: str,
    seq: int,
    name: str,
    input_text: str | None,
    now: str,
) -> int:
    """Insert the activity's work row (kept until its result is committed); returns the row id."""
    cur = conn.execute(
        "INSERT INTO orch_activities (instance_id, execution_id, seq, name, input, scheduled_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (instance_id, execution_id, seq, name, input_text, now),
    )
    return int(cur.lastrowid or 0)


@dataclass(frozen=True)
class ActivityRow:
    """One ``orch_activities`` row: an activity invocation that has no committed result yet."""

    id: int
    instance_id: str
    execution_id: str
    seq: int
    name: str
    input: str | None


def pending_activities(conn: sqlite3.Connection) -> list[ActivityRow]:
    """Every activity without a committed result, oldest first (re-dispatched at start)."""
    rows = conn.execute(
        "SELECT id, instance_id, execution_id, seq, name, input FROM orch_activities ORDER BY id"
    ).fetchall()
    return [ActivityRow(*r) for r in rows]


def finish_activity(conn: sqlite3.Connection, row: ActivityRow, event: HistoryEvent, now: str) -> bool:
    """Delete the work row and post its completion, if the work is still wanted (same transaction)."""
    if conn.execute("DELETE FROM orch_activities WHERE id = ?", (row.id,)).rowcount == 0:
        return False
    post(
        conn,
        row.instance_id,
        MessageKind.COMPLETION,
        visible_at=now,
        execution_id=row.execution_id,
        event=event,
    )
    return True


def due_instances(conn: sqlite3.Connection, after: str, until: str) -> list[str]:
    """Instances with a message that became visible in ``(after, until]``: timers just due."""
    rows = conn.execute(
        "SELECT DISTINCT instance_id FROM orch_messages WHERE visible_at > ? AND visible_at <= ?",
        (after, until),
    ).fetchall()
    return [r[0] for r in rows]


def next_due(conn: sqlite3.Connection, after: str) -> str | None:
    """The earliest ``visible_at`` after ``after``, or None: when the timer loop must wake next."""
    r = conn.execute("SELECT min(visible_at) FROM orch_messages WHERE visible_at > ?", (after,)).fetchone()
    return str(r[0]) if r and r[0] is not None else None
