"""Concurrent runs on one session: serialized, each exactly once, in the order the entity took them.

The app's agent middleware logs every run entering and leaving the agent, so "never more than
one execution at a time per session" is measured inside the host, not inferred from the replies;
a control run on distinct sessions shows that the probe does see overlap when there is some.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from .checks import check_history, read_probe
from .concurrent_runs import runs_at_once, simultaneously
from .conftest import Battery
from .hosts import AGENT, REQUEST_TIMEOUT
from .turns import Stats

RUNS = 50


def _post(battery: Battery, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        battery.host.url(f"/api/agents/{AGENT}/run"),
        json=body,
        headers=headers or {},
        timeout=REQUEST_TIMEOUT,
    )


def test_fifty_simultaneous_runs_on_one_session_are_serialized(battery: Battery) -> None:
    """All 200, turn numbers a permutation of 1..50 matching the stored order, each user entry
    followed by its own reply, and the probe never saw two runs of the session inside the agent."""
    stats = Stats()
    runs_at_once(battery.host.base_url, battery.workdir, "c" + uuid.uuid4().hex[:12], RUNS, stats)
    assert stats.statuses == {200: RUNS}
    assert stats.acked == RUNS


def test_the_probe_sees_overlap_across_sessions(battery: Battery) -> None:
    """Control: distinct sessions do run at the same time, so the probe above could have failed."""
    sessions = ["o" + uuid.uuid4().hex[:12] for _ in range(6)]
    results = simultaneously(
        len(sessions),
        lambda i: _post(
            battery, {"message": f"turn 'm-{sessions[i]}-1' #sleep:0.5", "sessionId": sessions[i]}
        ),
    )
    assert {r.status_code for r in results.values()} == {200}
    lines = (battery.workdir / "probe.log").read_text().splitlines()
    mine = [line for line in lines if any(f"@{s} " in line for s in sessions)]
    inside = peak = 0
    for line in mine:
        inside += 1 if line.startswith("enter") else -1
        peak = max(peak, inside)
    assert peak >= 2


def test_if_match_lets_exactly_one_of_twenty_simultaneous_runs_through(battery: Battery) -> None:
    session = "i" + uuid.uuid4().hex[:12]
    first = _post(battery, {"message": "turn 'm-first-0'", "sessionId": session})
    assert first.status_code == 200
    etag = first.headers["etag"]
    results = simultaneously(
        20,
        lambda i: _post(
            battery,
            {"message": f"turn 'm-{session}-{i}' #sleep:0.02", "sessionId": session},
            {"If-Match": etag},
        ),
    )
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200] + [412] * 19, statuses
    for response in results.values():
        if response.status_code == 412:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("/precondition-failed")
    body = battery.http.get(f"/agents/{AGENT}/{session}").json()
    assert body["message_count"] == 2
    check_history(body["conversation_history"])


def test_the_same_key_sent_ten_times_at_once_runs_one_turn(battery: Battery) -> None:
    session = "d" + uuid.uuid4().hex[:12]
    body = {"message": f"turn 'm-{session}-1' #sleep:0.2", "sessionId": session}
    results = simultaneously(10, lambda i: _post(battery, body, {"Idempotency-Key": f"dup-{session}"}))
    assert {r.status_code for r in results.values()} == {200}
    assert len({r.text for r in results.values()}) == 1  # one stored result, answered ten times
    conversation = battery.http.get(f"/agents/{AGENT}/{session}").json()
    assert conversation["message_count"] == 1
    assert read_probe(battery.workdir / "probe.log", session).runs[f"m-{session}-1"] == 1
