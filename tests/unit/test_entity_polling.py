"""The polling plan of a route waiting through the public Durable client (the Azure path)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from durableagent import entity_polling
from durableagent.entity_polling import PollPlan


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    entity_polling.forget()
    yield
    entity_polling.forget()


def _wait(
    duration: float, name: str = "Agent", op: str = "run_agent", rtt: float = 0.01
) -> tuple[int, float]:
    """Simulate one wait on an operation that commits ``duration`` s after its signal, each read
    taking ``rtt``: (reads, seconds from the commit to the read that saw it)."""
    plan, now = PollPlan(name, op), 0.0
    while True:
        now += plan.next_pause(now)
        read_at = now
        now += rtt
        if read_at >= duration:
            plan.answered(read_at)
            return plan.reads, read_at - duration
        plan.missed(read_at)


def test_without_history_reads_back_off_and_stay_bounded() -> None:
    reads, added = _wait(3.0)
    assert reads <= 20
    assert added <= 0.3
    long_reads, _ = _wait(60.0, name="Other")
    assert long_reads <= 80  # pauses grow to 1 s: a one-minute turn is not read every 50 ms


def test_with_history_a_steady_agent_is_read_a_few_times_around_its_usual_duration() -> None:
    for _ in range(5):
        _wait(3.0)
    samples = [_wait(d) for d in (3.0, 3.02, 2.98, 3.05, 3.1, 3.0)]
    assert all(reads <= 8 for reads, _ in samples), samples
    assert max(added for _, added in samples) <= 0.1, samples


def test_a_turn_slower_than_usual_costs_a_few_reads_more_and_then_backs_off() -> None:
    for _ in range(5):
        _wait(3.0)
    reads, added = _wait(10.0)
    assert reads <= 25
    assert added <= 1.0


def test_quick_operations_answer_on_the_early_reads_and_histories_are_per_operation() -> None:
    for _ in range(5):
        _wait(3.0)
    reads, added = _wait(0.01, op="get_state")
    assert reads == 1
    assert added < 0.05
    reads, _ = _wait(0.12)  # a run_agent that answered at once (a repeated request)
    assert reads == 2
