"""Rewind on a real SQLite store: what is refused and what history it leaves (orchestrations/rewind.py)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from durableagent.local.orchestrations import rewind, tables
from durableagent.local.orchestrations.model import EngineState, RuntimeStatus
from durableagent.local.store import Store
from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.orchestration_json import EventType

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _failed(conn: sqlite3.Connection, state: EngineState) -> None:
    stamp = wire.format_time(AT)
    tables.create_instance(conn, "i", "orch", "e", None, stamp)
    tables.append_history(
        conn,
        "i",
        0,
        [
            wire.orchestrator_started(AT),
            wire.execution_started(AT, "orch", None, "i", "e"),
            wire.task_scheduled(AT, 0, "work", '"x"'),
            wire.orchestrator_completed(AT),
            wire.orchestrator_started(AT),
            wire.task_failed(AT, 0, "boom", ""),
            wire.execution_completed(AT, "Failed", "boom"),
            wire.orchestrator_completed(AT),
        ],
    )
    conn.execute(
        "UPDATE orch_instances SET status = ?, engine_state = ? WHERE instance_id = 'i'",
        (RuntimeStatus.FAILED.value, state.to_json()),
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store.sqlite")


def test_a_failed_activity_is_scheduled_again_and_the_failure_forgotten(store: Store) -> None:
    store.write_sync(lambda c: _failed(c, EngineState(issued=1, next_seq=1, action_seqs=[0])))
    effects = store.write_sync(lambda c: rewind.rewind(c, "i", "fixed", AT))
    assert [(a.seq, a.name, a.input) for a in effects.activities] == [(0, "work", '"x"')]
    history = store.read_sync(lambda c: tables.history(c, "i"))
    kinds = [e["EventType"] for e in history]
    assert EventType.TASK_FAILED not in kinds
    assert EventType.EXECUTION_COMPLETED not in kinds
    row = store.read_sync(lambda c: tables.get_instance(c, "i"))
    assert row is not None
    assert (row.status, row.output) == (RuntimeStatus.RUNNING, None)
    store.close()


def test_a_failure_inside_a_retry_group_is_refused_and_nothing_changes(store: Store) -> None:
    state = EngineState(issued=1, next_seq=2, action_seqs=[0], retry_owner={0: 0, 1: 0})
    store.write_sync(lambda c: _failed(c, state))
    with pytest.raises(rewind.RewindRefused, match="with_retry"):
        store.write_sync(lambda c: rewind.rewind(c, "i", None, AT))
    row = store.read_sync(lambda c: tables.get_instance(c, "i"))
    assert row is not None
    assert row.status is RuntimeStatus.FAILED
    assert len(store.read_sync(lambda c: tables.history(c, "i"))) == 8
    store.close()
