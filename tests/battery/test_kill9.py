"""kill -9 battery: acknowledged turns survive SIGKILL and every named crash point, exactly once.

The CI run kills the host at least 20 times (each crash point once, the rest at random moments);
the long run (``scripts/battery``) 500 times. See ``kills.kill_battery`` for one iteration.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx
import pytest

from durableagent._faults import CRASH_ENV, CRASH_EXIT_CODE

from .checks import read_probe
from .hosts import AGENT, CRASH_POINTS, REQUEST_TIMEOUT, battery_host
from .kills import KillPlan, kill_battery


def test_kill9_battery(tmp_path: Path) -> None:
    plan = KillPlan(random_kills=14, per_point=1, seed=int(os.environ.get("BATTERY_SEED", "7")))
    report = kill_battery(tmp_path, plan)
    stats = report.stats
    assert stats.kills >= 20
    assert {p.split(" ")[0] for p in stats.crash_point_kills} == set(CRASH_POINTS)
    assert stats.acked == report.turns
    assert report.reads > 0  # GETs during the kills all showed committed prefixes
    assert (stats.lost, stats.duplicated, stats.five_xx) == (0, 0, 0), stats.server_errors[:5]
    print(
        f"kills={stats.kills} crash points={dict(stats.crash_point_kills)} turns={report.turns} "
        f"retries={stats.retries} agent re-runs={report.reexecutions} "
        f"tool re-runs={report.tool_reexecutions} reads while changing={report.reads} "
        f"in {report.elapsed:.0f}s"
    )


@pytest.mark.long
@pytest.mark.timeout(3600)  # 500 kills take about 20 minutes, past the suite's 300 s timeout
def test_kill9_battery_long(tmp_path: Path) -> None:
    kills = int(os.environ.get("BATTERY_KILLS", "500"))
    per_point = max(1, kills // 5 // len(CRASH_POINTS))
    plan = KillPlan(random_kills=kills - per_point * len(CRASH_POINTS), per_point=per_point, seed=11)
    report = kill_battery(tmp_path, plan, check_every=5)
    assert report.stats.kills >= kills
    assert (report.stats.lost, report.stats.duplicated, report.stats.five_xx) == (0, 0, 0)


def test_a_crash_after_the_transcript_write_does_not_run_the_model_again(tmp_path: Path) -> None:
    """The journal: turn n is already in the transcript, so its redelivery reuses it, including a
    session's very first turn (its incarnation is derived from the request that starts it)."""
    host = battery_host(tmp_path, env={CRASH_ENV: "turn.after_transcript"}).start()
    session = "j" + uuid.uuid4().hex[:12]
    try:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
            for n in (1, 2):
                marker = f"m-{session}-{n}"
                body = {"message": f"turn '{marker}'", "sessionId": session}
                headers = {"Idempotency-Key": f"j-{session}-{n}"}
                with pytest.raises(httpx.TransportError):
                    http.post(host.url(f"/api/agents/{AGENT}/run"), json=body, headers=headers)
                assert host.wait_exit(30) == CRASH_EXIT_CODE
                host.env.pop(CRASH_ENV)
                host.start()
                r = http.post(host.url(f"/api/agents/{AGENT}/run"), json=body, headers=headers)
                assert r.status_code == 200
                assert r.json()["turn"] == n
                host.stop()
                host.env[CRASH_ENV] = "turn.after_transcript"
                host.start()
    finally:
        if host.running:
            host.stop()
    runs = read_probe(tmp_path / "probe.log").runs
    assert runs[f"m-{session}-1"] == 1  # the first turn's transcript record is reused too
    assert runs[f"m-{session}-2"] == 1  # later turns: the transcript's turn is reused
