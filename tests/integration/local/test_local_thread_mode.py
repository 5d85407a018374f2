"""LocalHost in thread mode: the host runs inside the test process and can be restarted."""

from __future__ import annotations

import os
from collections.abc import Callable

import httpx
import pytest

from durableagent.testing.host import LocalHost, LocalHostError
from durableagent.testing.polling import wait_for

from .conftest import PLAIN_DF


def test_thread_mode_serves_signals_and_restarts_on_the_same_store(
    local_host: Callable[..., LocalHost],
) -> None:
    before = os.environ.get("DURABLEAGENT_LOCAL_HOST")
    host = local_host(PLAIN_DF, mode="thread")
    assert os.environ["DURABLEAGENT_LOCAL_HOST"] == "1"
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert http.post("/api/counters/t/add", json={"n": 2}).status_code == 202
        wait_for(lambda: http.get("/api/counters/t").status_code == 200)
    host.restart()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert http.post("/api/counters/t/add", json=3).status_code == 202
        state = wait_for(lambda: (http.get("/api/counters/t").json().get("state") or {}).get("value") == 5)
        assert state
    host.stop()
    assert os.environ.get("DURABLEAGENT_LOCAL_HOST") == before
    with pytest.raises(LocalHostError, match="subprocess"):
        host.kill()


def test_thread_mode_reports_a_startup_failure(tmp_path: object) -> None:
    host = LocalHost(PLAIN_DF, mode="thread", script="missing.py", store=":memory:")
    with pytest.raises(LocalHostError, match="script not found"):
        host.start()
