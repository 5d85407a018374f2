"""SQL over the orchestration tables of migration 0002 (instances, history, messages, activities).

Why: the engine, the HTTP endpoints and the entity engine's call-result sink all write these rows;
the statements live here once. Every function takes the connection and runs on the store thread
inside the caller's transaction (``Store.read``/``Store.write``), so callers choose the boundary.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from durableagent.local.orchestrations.model import (
    EngineState,
    InstanceSnapshot,
    Message,
    MessageKind,
    ParentRef,
    RuntimeStatus,
)
from durableagent.local.wire.orchestration_json import HistoryEvent, parse_time

RUNNING_STATES = (
    RuntimeStatus.PENDING.value,
    RuntimeStatus.RUNNING.value,
    RuntimeStatus.CONTINUED_AS_NEW.value,
    RuntimeStatus.SUSPENDED.value,
)
_COLUMNS = (
    "instance_id, name, execution_id, status, input, output, custom_status, created_time, last_updated,"
    " parent_instance, parent_execution, parent_seq, engine_state, version"
)


@dataclass(frozen=True)
class InstanceRow:
    """One ``orch_instances`` row, decoded: the current execution's status, payload texts and parent."""

    instance_id: str
    name: str
    execution_id: str
    status: RuntimeStatus
    input: str | None
    output: str | None
    custom_status: str | None
    created_time: str
    last_updated: str
    parent: ParentRef | None
    engine_state: str
    version: str | None = None  # migration 0003

    @property
    def is_running(self) -> bool:
        """Whether the instance can still change (Pending, Running, ContinuedAsNew or Suspended)."""
        return self.status.value in RUNNING_STATES


def _row(r: tuple[object, ...]) -> InstanceRow:
    parent = ParentRef(str(r[9]), str(r[10]), int(str(r[11]))) if r[9] is not None else None
    return InstanceRow(
        str(r[0]),
        str(r[1]),
        str(r[2]),
        RuntimeStatus(r[3]),
        _opt(r[4]),
        _opt(r[5]),
        _opt(r[6]),
        str(r[7]),
        str(r[8]),
        parent,
        str(r[12]),
        _opt(r[13]),
    )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def get_instance(conn: sqlite3.Connection, instance_id: str) -> InstanceRow | None:
    """The instance's row, or None if no such instance exists."""
    r = conn.execute(
        f"SELECT {_COLUMNS} FROM orch_instances WHERE instance_id = ?",  # noqa: S608 - fixed column list
        (instance_id,),
    ).fetchone()
    return _row(r) if r else None


def history(conn: sqlite3.Connection, instance_id: str) -> list[HistoryEvent]:
    """The current execution's history events, in the order they were appended."""
    rows = conn.execute(
        "SELECT event FROM orch_history WHERE instance_id = ? ORDER BY position", (instance_id,)
    ).fetchall()
    return [json.loads(r[0]) for r in rows]


def snapshot(conn: sqlite3.Connection, instance_id: str) -> InstanceSnapshot | None:
    """The instance as an episode starts from it (row, history, engine state), or None if absent."""
    row = get_instance(conn, instance_id)
    if row is None:
        return None
    return InstanceSnapshot(
        row.instance_id,
        row.name,
        row.execution_id,
        row.status,
        row.input,
        history(conn, instance_id),
        EngineState.from_json(row.engine_state),
        row.parent,
        parse_time(row.created_time),
        row.version,
    )


def ready_messages(conn: sqlite3.Connection, instance_id: str, now: str, limit: int = 500) -> list[Message]:
    """Up to ``limit`` of the instance's messages visible at ``now``, oldest first."""
    rows = conn.execute(
        "SELECT id, kind, execution_id, event, reason FROM orch_messages"
        " WHERE instance_id = ? AND visible_at <= ? ORDER BY id LIMIT ?",
        (instance_id, now, limit),
    ).fetchall()
    return [Message(r[0], MessageKind(r[1]), r[2], json.loads(r[3]) if r[3] else None, r[4]) for r in rows]


def post(
    conn: sqlite3.Connection,
    instance_id: str,
    kind: MessageKind,
    *,
    visible_at: str,
    execution_id: str | None = None,
    event: HistoryEvent | None = None,
    reason: str | None = None,
    timer_seq: int | None = None,
) -> None:
    """Queue a message for the instance; it is seen once ``visible_at`` (ISO 8601 UTC) has passed."""
    conn.execute(
        "INSERT INTO orch_messages (instance_id, execution_id, kind, event, reason, timer_seq, visible_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            instance_id,
            execution_id,
            kind.value,
            json.dumps(event) if event is not None else None,
            reason,
            timer_seq,
            visible_at,
        ),
    )


def create_instance(
    conn: sqlite3.Connection,
    instance_id: str,
    name: str,
    execution_id: str,
    input_text: str | None,
    now: str,
    parent: ParentRef | None = None,
    version: str | None = None,
) -> None:
    """Insert (or replace a non-running) instance and its START message; the caller checked running."""
    delete_instance(conn, instance_id)
    conn.execute(
        f"INSERT INTO orch_instances ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        (
            instance_id,
            name,
            execution_id,
            RuntimeStatus.PENDING.value,
            input_text,
            now,
            now,
            parent.instance_id if parent else None,
            parent.execution_id if parent else None,
            parent.seq if parent else None,
            EngineState().to_json(),
            version,
        ),
    )
    post(conn, instance_id, MessageKind.START, visible_at=now, execution_id=execution_id)


def delete_instance(conn: sqlite3.Connection, instance_id: str) -> int:
    """Remove an instance with its history, messages and pending activities; returns rows deleted (0/1)."""
    for table in ("orch_history", "orch_messages", "orch_activities"):
        conn.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))  # noqa: S608 - fixed names
    return conn.execute("DELETE FROM orch_instances WHERE instance_id = ?", (instance_id,)).rowcount


def append_history(
    conn: sqlite3.Connection, instance_id: str, start: int, events: Iterable[HistoryEvent]
) -> None:
    """Append ``events`` to the instance's history at positions ``start``, ``start + 1``, ..."""
    conn.executemany(
        "INSERT INTO orch_history (instance_id, position, event) VALUES (?, ?, ?)",
        [(instance_id, start + i, json.dumps(e)) for i, e in enumerate(events)],
    )


def history_length(conn: sqlite3.Connection, instance_id: str) -> int:
    """How many history events the instance has (the commit's optimistic-concurrency check)."""
    return int(
        conn.execute("SELECT count(*) FROM orch_history WHERE instance_id = ?", (instance_id,)).fetchone()[0]
    )
