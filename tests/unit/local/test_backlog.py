"""The backlog: counts, bounds, Retry-After (in memory; the HTTP proof is tests/battery/test_backlog)."""

from __future__ import annotations

import pytest

from durableagent.contract.problems import TooManyTurns
from durableagent.local.backlog import Backlog


def test_the_session_bound_refuses_only_that_session() -> None:
    backlog = Backlog(per_entity=2, per_host=10)
    for _ in range(2):
        backlog.admit("@a@1")
        backlog.added("@a@1")
    with pytest.raises(TooManyTurns) as refused:
        backlog.admit("@a@1")
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "1"  # nothing finished yet: no rate to estimate from
    backlog.admit("@a@2")  # another session is still admitted


def test_the_host_bound_refuses_every_session_until_work_finishes() -> None:
    backlog = Backlog(per_entity=5, per_host=3)
    for key in ("1", "2", "3"):
        backlog.added(f"@a@{key}")
    with pytest.raises(TooManyTurns):
        backlog.admit("@a@new")
    backlog.removed("@a@1", 1)
    backlog.admit("@a@new")
    assert backlog.total == 2
    assert backlog.queued("@a@1") == 0


def test_counts_load_from_the_store_and_never_go_negative() -> None:
    backlog = Backlog()
    backlog.load({"@a@1": 3, "@a@2": 0})
    assert (backlog.total, backlog.queued("@a@1"), backlog.queued("@a@2")) == (3, 3, 0)
    backlog.removed("@a@1", 5)
    assert (backlog.total, backlog.queued("@a@1")) == (0, 0)


def test_retry_after_follows_the_finishing_rate() -> None:
    backlog = Backlog(per_entity=1000, per_host=1000)
    backlog.load({"@a@1": 1000})
    for _ in range(50):
        backlog.removed("@a@1", 1)  # a fast host: many operations per second
    backlog.load({"@a@1": 1000})
    with pytest.raises(TooManyTurns) as refused:
        backlog.admit("@a@1")
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Backlog(per_entity=0)
