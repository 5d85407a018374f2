"""Backpressure: a session's and the host's queue of turns are bounded; beyond, 429 + Retry-After.

Over real HTTP on a subprocess host with small bounds (``--max-session-queue 2``,
``--max-queued-turns 4``) and turns that hold the model (``#sleep``) so they stay queued: the
refused requests change nothing, a fresh session is refused only by the host bound, and the counts
survive a SIGKILL (they are rebuilt from the store's mailboxes at start).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for
from tests.battery.hosts import AGENT, battery_host

RUN = f"/api/agents/{AGENT}/run"
HOLD = "#sleep:120"  # long enough to stay queued for the whole test; the host is killed at the end


@pytest.fixture
def host(tmp_path: Path) -> Iterator[LocalHost]:
    h = battery_host(tmp_path, extra_args=["--max-session-queue", "2", "--max-queued-turns", "4"]).start()
    yield h
    h.kill()


def _run(client: httpx.Client, session: str, marker: str) -> httpx.Response:
    return client.post(
        RUN,
        json={"message": f"{HOLD} {marker}", "sessionId": session},
        headers={"Prefer": "respond-async"},
    )


def _refused(response: httpx.Response) -> str:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    problem = response.json()
    assert problem["type"].endswith("/too-many-turns")
    assert problem["status"] == 429
    return str(problem["detail"])


def _history_text(client: httpx.Client, session: str) -> str:
    response = client.get(f"/api/agents/{AGENT}/{session}")
    return response.text if response.status_code == 200 else ""


def test_session_and_host_queues_are_bounded_and_refusals_change_nothing(host: LocalHost) -> None:
    with httpx.Client(base_url=host.base_url, timeout=30) as client:
        assert _run(client, "bl-a", "m-a-1").status_code == 202
        assert _run(client, "bl-a", "m-a-2").status_code == 202
        assert "session" in _refused(_run(client, "bl-a", "m-a-3"))  # the session's bound

        assert _run(client, "bl-b", "m-b-1").status_code == 202
        assert _run(client, "bl-c", "m-c-1").status_code == 202
        assert "host" in _refused(_run(client, "bl-d", "m-d-1"))  # a fresh session: the host's bound

        assert "m-a-3" not in _history_text(client, "bl-a")
        assert client.get(f"/api/agents/{AGENT}/bl-d").status_code == 404  # never created

        # The bounds hold across a SIGKILL: the counts are rebuilt from the mailboxes.
        host.kill()
        host.start()
        client.base_url = httpx.URL(host.base_url)
        _refused(_run(client, "bl-a", "m-a-4"))
        _refused(_run(client, "bl-e", "m-e-1"))
        assert client.get("/api/health").status_code == 200  # reads are never refused


def test_refused_turns_free_up_when_the_queue_drains(tmp_path: Path) -> None:
    host = battery_host(tmp_path, extra_args=["--max-session-queue", "1"]).start()
    try:
        with httpx.Client(base_url=host.base_url, timeout=60) as client:
            first = client.post(RUN, json={"message": "#sleep:1 m-f-1", "sessionId": "bl-f"},
                                headers={"Prefer": "respond-async"})  # fmt: skip
            assert first.status_code == 202
            _refused(client.post(RUN, json={"message": "m-f-2", "sessionId": "bl-f"}))
            # Once the first turn is answered, the session takes turns again.
            assert wait_for(lambda: client.get(first.headers["location"]).status_code == 200 or None, 30)
            done = client.post(RUN, json={"message": "m-f-3", "sessionId": "bl-f"})
            assert done.status_code == 200, done.text
    finally:
        host.kill()
