"""Timer triggers on the local host: a one-second schedule, TimeSpan, run-on-startup, and isPastDue
after a restart that missed occurrences (the schedule monitor's status survives a SIGKILL).

Each test app function appends a JSON line per invocation to a file named by an app setting; the
tests wait on those lines, never on a fixed sleep.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

pytestmark = pytest.mark.integration

TIMER_APP = Path(__file__).resolve().parents[2] / "apps" / "timer_app"


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _at(line: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(line["at"]))


def _monitored_schedule() -> str:
    """Every second, today and tomorrow (UTC): the day-of-week field keeps the schedule monitored."""
    today = (datetime.now(timezone.utc).weekday() + 1) % 7  # NCRONTAB: Sunday is 0
    return f"* * * * * {today},{(today + 1) % 7}"


@pytest.fixture
def logs(tmp_path: Path) -> dict[str, Path]:
    return {name: tmp_path / f"{name.lower()}.jsonl" for name in
            ("EVERY_SECOND_LOG", "MONITORED_LOG", "STARTUP_LOG", "TIMESPAN_LOG")}  # fmt: skip


def _host(tmp_path: Path, logs: dict[str, Path]) -> LocalHost:
    env = {name: str(path) for name, path in logs.items()}
    env.update(MONITORED_SCHEDULE=_monitored_schedule(), WEBSITE_TIME_ZONE="UTC", KICKOFF_ID="kicked-off")
    return LocalHost(TIMER_APP, store=tmp_path / "store.sqlite", env=env)


def test_one_second_schedule_fires_every_second(tmp_path: Path, logs: dict[str, Path]) -> None:
    with _host(tmp_path, logs) as host:
        log, monitored_log = logs["EVERY_SECOND_LOG"], logs["MONITORED_LOG"]
        lines = wait_for(lambda: len(_lines(log)) >= 4 and _lines(log))
        chain = wait_for(lambda: len(_lines(monitored_log)) >= 4 and _lines(monitored_log))
        banner = host.output()
    times = [_at(line) for line in lines]
    assert times == sorted(times)
    for line in lines:
        assert line["past_due"] is False
        # Sub-minute schedules are not monitored (ShouldDisableScheduleMonitor): no status is passed.
        assert line["schedule_status"] is None
        assert line["schedule"] == {"AdjustForDST": True}
    assert "every_second: timerTrigger (cron '* * * * * *', next 20" in banner
    assert "not monitored" in banner.split("every_second: timerTrigger", 1)[1].splitlines()[0]
    # The monitored one-second timer gets the status the host keeps: each run records Last (its
    # occurrence, or its start when it ran late) and Next = the next whole second after Last.
    statuses = [line["schedule_status"] for line in chain]
    assert all(isinstance(st, dict) for st in statuses)
    for before, after in itertools.pairwise(statuses):
        assert isinstance(before, dict)
        assert isinstance(after, dict)
        last, nxt = datetime.fromisoformat(after["Last"]), datetime.fromisoformat(after["Next"])
        assert last >= datetime.fromisoformat(before["Next"])
        assert nxt == last.replace(microsecond=0) + timedelta(seconds=1)


def test_timespan_schedule_and_run_on_startup(tmp_path: Path, logs: dict[str, Path]) -> None:
    with _host(tmp_path, logs) as host:
        spans = wait_for(lambda: len(_lines(logs["TIMESPAN_LOG"])) >= 2 and _lines(logs["TIMESPAN_LOG"]))
        startup = wait_for(lambda: _lines(logs["STARTUP_LOG"]))
        banner = host.output()
    assert _at(spans[1]) > _at(spans[0])  # the interval itself: tests/unit/local/test_timer_schedules.py
    assert spans[0]["schedule"] == {"AdjustForDST": False}
    # The yearly schedule ran once at startup (runOnStartup), not past due.
    assert len(startup) == 1
    assert startup[0]["past_due"] is False
    assert "startup: timerTrigger (cron '0 0 0 1 1 *', next 20" in banner
    assert "run on startup now" in banner


def test_restart_after_missed_occurrences_fires_once_past_due(tmp_path: Path, logs: dict[str, Path]) -> None:
    host = _host(tmp_path, logs)
    host.start()
    try:
        first = wait_for(lambda: _lines(logs["MONITORED_LOG"]))[0]
        assert first["past_due"] is False
        status = first["schedule_status"]
        assert isinstance(status, dict)
        assert set(status) == {"Last", "Next", "LastUpdated"}
        host.kill()  # no shutdown code runs: the status written after the last invocation is what remains
        before_restart = _lines(logs["MONITORED_LOG"])
        stopped_at = datetime.now(timezone.utc)
        # Occurrences are missed while the host is down (the recorded Next passes).
        wait_for(lambda: datetime.now(timezone.utc) > stopped_at + timedelta(seconds=2.5), interval=0.2)
        restarted_at = datetime.now(timezone.utc)
        host.restart()
        after = wait_for(
            lambda: (
                len(_lines(logs["MONITORED_LOG"])) >= len(before_restart) + 3
                and _lines(logs["MONITORED_LOG"])[len(before_restart) :]
            )
        )
    finally:
        host.stop()
    assert [line["past_due"] for line in after[:3]] == [True, False, False], "exactly one past-due run"
    missed = after[0]["schedule_status"]
    assert isinstance(missed, dict)
    assert datetime.fromisoformat(missed["Next"]) < restarted_at, "the recorded Next was missed"
    # Past-due run at startup records Last = its invocation time; the next runs follow the schedule.
    follow = after[1]["schedule_status"]
    assert isinstance(follow, dict)
    assert datetime.fromisoformat(follow["Last"]) >= restarted_at


def test_timer_starts_an_orchestration_through_its_durable_client(
    tmp_path: Path, logs: dict[str, Path]
) -> None:
    with _host(tmp_path, logs) as host, httpx.Client(base_url=host.base_url) as http:
        url = f"/runtime/webhooks/durabletask/instances/kicked-off?code={host.system_key}"

        def completed() -> dict[str, object] | None:
            resp = http.get(url)
            doc = resp.json() if resp.status_code in (200, 202) else {}
            return doc if doc.get("runtimeStatus") == "Completed" else None

        doc = wait_for(completed)
    assert doc["output"] == "FROM A TIMER"
    assert doc["name"] == "greet"
