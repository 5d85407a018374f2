"""``batching.select``: which messages an episode takes, holds or drops."""

from __future__ import annotations

from datetime import datetime, timezone

from durableagent.local.orchestrations.batching import select
from durableagent.local.orchestrations.model import EngineState, Message, MessageKind, RuntimeStatus
from durableagent.local.wire import orchestration_json as wire

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _event(i: int, name: str) -> Message:
    return Message(i, MessageKind.EVENT, None, wire.event_raised(AT, name, '"x"'))


def _done(i: int, seq: int, execution: str = "e1") -> Message:
    return Message(i, MessageKind.COMPLETION, execution, wire.task_completed(AT, seq, "1"))


def test_events_are_held_until_a_waiter_is_open() -> None:
    state = EngineState(open_waits={"A": 1})
    batch = select(RuntimeStatus.RUNNING, "e1", state, [_event(1, "B"), _event(2, "A"), _event(3, "A")])
    assert [m.id for m in batch.take] == [2]
    assert batch.drop == []


def test_stale_executions_and_answers_are_dropped() -> None:
    state = EngineState(calls=["r1"])
    answer = Message(3, MessageKind.RESPONSE, None, wire.event_raised(AT, "r1", "{}"))
    stale = Message(4, MessageKind.RESPONSE, None, wire.event_raised(AT, "old", "{}"))
    batch = select(RuntimeStatus.RUNNING, "e2", state, [_done(1, 0, "e1"), _done(2, 0, "e2"), answer, stale])
    assert [m.id for m in batch.take] == [2, 3]
    assert [m.id for m in batch.drop] == [1, 4]


def test_one_retry_completion_per_episode_and_last() -> None:
    state = EngineState(retry_owner={0: 0, 5: 5})
    batch = select(RuntimeStatus.RUNNING, "e1", state, [_done(1, 0), _done(2, 1), _done(3, 5), _done(4, 2)])
    assert [m.id for m in batch.take] == [2, 4, 1]


def test_terminate_wins_and_control_messages_run_alone() -> None:
    term = Message(9, MessageKind.TERMINATE, None, None, "bye")
    batch = select(RuntimeStatus.RUNNING, "e1", EngineState(), [_done(1, 0), term])
    assert batch.control is term
    suspend = Message(2, MessageKind.SUSPEND, None, None, "wait")
    batch = select(RuntimeStatus.RUNNING, "e1", EngineState(), [_done(1, 0), suspend, _done(3, 1)])
    assert [m.id for m in batch.take] == [1]  # the suspend comes in the next episode
    batch = select(RuntimeStatus.RUNNING, "e1", EngineState(), [suspend, _done(3, 1)])
    assert batch.control is suspend


def test_a_suspended_instance_only_takes_resume() -> None:
    resume = Message(5, MessageKind.RESUME, None, None, None)
    held = select(RuntimeStatus.SUSPENDED, "e1", EngineState(), [_done(1, 0)])
    assert held.take == []
    assert held.drop == []
    batch = select(RuntimeStatus.SUSPENDED, "e1", EngineState(), [_done(1, 0), resume])
    assert batch.control is resume


def test_pending_and_terminal_instances() -> None:
    start = Message(7, MessageKind.START, "e1")
    batch = select(RuntimeStatus.PENDING, "e1", EngineState(), [_event(1, "A"), start])
    assert batch.take == [start]
    done = select(RuntimeStatus.COMPLETED, "e1", EngineState(), [_event(1, "A"), _done(2, 0)])
    assert done.take == []
    assert [m.id for m in done.drop] == [1, 2]
