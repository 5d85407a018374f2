"""Admission: the queue bounds and the Retry-After estimate over an engine's counts (HTTP proof: battery)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import pytest

from durableagent.contract.problems import TooManyTurns
from durableagent.local.entity_mailbox import EntityMailboxes
from durableagent.local.inprocess_entities import Admission


@dataclass
class Counts:
    """The three counters of an EntityMailboxes that admission reads."""

    queued: dict[str, int] = field(default_factory=dict)
    queued_total: int = 0
    finished: int = 0


def _engine(counts: Counts) -> EntityMailboxes:
    return cast(EntityMailboxes, counts)


def test_the_session_bound_refuses_only_that_session() -> None:
    counts = Counts(queued={"@a@1": 2}, queued_total=2)
    admission = Admission(per_entity=2, per_host=10)
    with pytest.raises(TooManyTurns) as refused:
        admission.check(_engine(counts), "@a@1")
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "1"  # nothing finished yet: no rate to estimate from
    assert "session" in str(refused.value.detail)
    admission.check(_engine(counts), "@a@2")  # another session is admitted


def test_the_host_bound_refuses_every_session_until_work_finishes() -> None:
    counts = Counts(queued={"@a@1": 1, "@a@2": 1, "@a@3": 1}, queued_total=3)
    admission = Admission(per_entity=5, per_host=3)
    with pytest.raises(TooManyTurns) as refused:
        admission.check(_engine(counts), "@a@new")
    assert "host" in str(refused.value.detail)
    counts.queued_total = 2
    admission.check(_engine(counts), "@a@new")


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Admission(per_entity=0)
    with pytest.raises(ValueError):
        Admission(per_host=0)
