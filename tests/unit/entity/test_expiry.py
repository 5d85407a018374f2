"""Idle expiry in the entity: the summary each turn leaves, the ``expire`` operation, the sweep."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from durableagent.conversation.base import SessionRef, format_time, parse_time, utc_now
from durableagent.conversation.factory import StoreHolder
from durableagent.entity.record import SessionRecord
from durableagent.http.edge import RouteContext
from durableagent.options import AppOptions
from durableagent.sweep import sweep

from .conftest import Harness, run


def _age(h: Harness, days: float) -> None:
    """Pretend the session was last active ``days`` ago (its record's ``updated_at``)."""
    h.state = {**h.state, "updated_at": format_time(datetime.now(timezone.utc) - timedelta(days=days))}


def test_each_turn_leaves_a_summary_with_its_expiry(harness: Harness) -> None:
    harness.turn("hello", "c1")
    first = run(harness.store.get_session("WeatherAgent", "s1"))
    assert first is not None
    assert (first.turns, first.last_active_at) == (1, harness.state["updated_at"])
    assert first.expires_at is not None
    assert parse_time(first.expires_at) - parse_time(first.last_active_at) == timedelta(days=14)
    harness.turn("again", "c2")
    second = run(harness.store.get_session("WeatherAgent", "s1"))
    assert second is not None
    assert second.turns == 2
    assert second.last_active_at >= first.last_active_at


def test_expire_keeps_an_active_session_and_deletes_an_idle_one(harness: Harness) -> None:
    harness.turn("hello", "c1")
    kept = harness.state
    assert harness.op("expire") == {"status": "active"}
    assert harness.state == kept
    _age(harness, 13.9)
    assert harness.op("expire") == {"status": "active"}
    summary = run(harness.store.get_session("WeatherAgent", "s1"))
    assert summary is not None
    assert summary.last_active_at == harness.state["updated_at"]  # the index was corrected
    _age(harness, 14.1)
    record = SessionRecord.from_state(harness.state)
    assert harness.op("expire") == {"status": "expired"}
    assert harness.state is None
    assert run(harness.store.get_session("WeatherAgent", "s1")) is None
    ref = SessionRef("WeatherAgent", "s1", record.incarnation)
    assert run(harness.store.load_turns(ref, 1, 10)) == []


def test_expire_of_a_session_that_does_not_exist_creates_nothing(harness: Harness) -> None:
    assert harness.op("expire") == {"status": "expired"}
    assert harness.state is None


def test_without_a_ttl_nothing_expires() -> None:
    h = Harness()
    h.entity.runner.reg = replace(h.entity.runner.reg, session_ttl=None)
    h.turn("hello", "c1")
    summary = run(h.store.get_session("WeatherAgent", "s1"))
    assert summary is not None
    assert summary.expires_at is None
    _age(h, 10_000)
    assert h.op("expire") == {"status": "active"}
    assert h.state is not None


class Signals:
    """An entity client that records signals (the sweep only signals)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def signal(self, name: str, key: str, operation: str, value: Any) -> None:
        self.sent.append((name, key, operation))

    async def read(self, name: str, key: str) -> Any:
        raise AssertionError("the sweep reads no entity")

    @contextlib.contextmanager
    def watch(self, name: str, key: str) -> Iterator[Any]:
        raise AssertionError("the sweep watches no entity")
        yield

    async def flush(self) -> None:
        return None


def test_the_sweep_signals_only_due_sessions_of_agents_with_a_ttl() -> None:
    h = Harness()
    for session in ("old", "fresh"):
        h.state = None  # each session its own entity
        h.op("run_agent", {"correlationId": f"c-{session}", "message": "hi"}, session=session)
        if session == "old":  # "fresh" must be active a millisecond later (the records' resolution)
            stamp = run(h.store.get_session("WeatherAgent", "old"))
            assert stamp is not None
            while utc_now() <= stamp.last_active_at:
                pass
    old = run(h.store.get_session("WeatherAgent", "old"))
    assert old is not None
    reg = h.entity.runner.reg
    ctx = RouteContext({"weatheragent": reg}, AppOptions(), StoreHolder(h.store))
    client = Signals()
    assert old.expires_at is not None
    assert run(sweep(ctx, client, now=old.expires_at)) == 1  # "fresh" is due a moment later
    assert client.sent == [("WeatherAgent", "old", "expire")]
    soon = format_time(datetime.now(timezone.utc) + timedelta(days=15))
    assert run(sweep(ctx, client, now=soon)) == 2
    ctx_without = RouteContext(
        {"weatheragent": replace(reg, session_ttl=None)}, AppOptions(), StoreHolder(h.store)
    )
    assert run(sweep(ctx_without, Signals(), now=soon)) == 0
