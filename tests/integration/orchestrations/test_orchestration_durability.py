"""Crash and restart: timers, pending work and half-committed episodes survive ``kill -9``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

from .conftest import PLAIN_DF, finished, start, status


def test_sigkill_during_a_long_timer_then_restart_completes(
    local_host: Callable[..., LocalHost], tmp_path: Path
) -> None:
    host = local_host(PLAIN_DF, store=tmp_path / "timer.sqlite")
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        sleeping = start(http, "sleeper", 3)
        started = time.monotonic()
        waiting = start(http, "approval", 600)
        wait_for(lambda: status(http, sleeping)["customStatus"] == "sleeping")
        wait_for(lambda: status(http, waiting)["runtimeStatus"] == "Running")
    host.kill()
    host.restart()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        if time.monotonic() - started < 2.5:  # the restart was quick: the timer cannot have fired yet
            assert status(http, sleeping)["runtimeStatus"] == "Running"
        doc = finished(http, sleeping, timeout=30)
        assert doc["output"] == {"slept": 3.0}
        assert doc["customStatus"] == "awake"
        # the instance that waits for an event still takes it after the restart
        assert (
            http.post(f"/api/orchestrations/{waiting}/raise/Approval", json="after restart").status_code
            == 202
        )
        assert finished(http, waiting)["output"]["value"] == '"after restart"'


def test_crash_inside_an_episode_commit_replays_the_episode(
    local_host: Callable[..., LocalHost], tmp_path: Path
) -> None:
    # The first orchestration commit crashes the host (the episode that sends the entity call): it must
    # roll back whole, and the replayed episode must send the call exactly once.
    host = local_host(
        PLAIN_DF,
        store=tmp_path / "crash.sqlite",
        env={"DURABLEAGENT_CRASH_AT": "host.orchestration.in_commit:1"},
    )
    key = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        instance_id = start(http, "add_and_double", {"key": key, "n": 5})
    assert host.wait_exit(30) == 137
    host.restart(DURABLEAGENT_CRASH_AT="")
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        doc = finished(http, instance_id)
        assert doc["output"] == {"total": 5, "doubled": 10}
        # nothing was applied twice: the call added 5 once, the signal 1 once
        state = wait_for(lambda: http.get(f"/api/counters/{key}").json().get("state"))
        wait_for(lambda: http.get(f"/api/counters/{key}").json()["state"]["value"] == 6)
        assert [entry[:2] for entry in http.get(f"/api/counters/{key}").json()["state"]["log"]] == [
            ["add", 5],
            ["add", 1],
        ]
        assert state


def test_sigkill_during_an_activity_runs_it_again(
    local_host: Callable[..., LocalHost], tmp_path: Path
) -> None:
    """Activities are at-least-once: an unanswered activity is re-dispatched after a restart."""
    host = local_host(PLAIN_DF, store=tmp_path / "activity.sqlite")
    log = tmp_path / "nap.log"
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        instance_id = start(http, "napper", {"seconds": 2, "log": str(log)})
        wait_for(lambda: log.exists() and log.read_text().count("start") == 1)
    host.kill()
    host.restart()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert finished(http, instance_id)["output"] == {"slept": 2}
    assert log.read_text().count("start") == 2
