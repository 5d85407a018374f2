"""Fixtures for the orchestration integration tests: the plain_df app on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

PLAIN_DF = Path(__file__).resolve().parents[2] / "apps" / "plain_df"
TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")


@pytest.fixture(scope="module")
def orch_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    """One subprocess host per module (file store), stopped gracefully at the end."""
    host = LocalHost(PLAIN_DF, store=tmp_path_factory.mktemp("orch") / "store.sqlite")
    host.start()
    yield host
    assert host.stop() == 0, host.output()


@pytest.fixture
def http(orch_host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=orch_host.base_url, timeout=30) as client:
        yield client


def start(http: httpx.Client, name: str, value: Any = None, instance_id: str | None = None) -> str:
    """Start through the app's client function (DurableOrchestrationClient.start_new)."""
    params = {"id": instance_id} if instance_id else None
    resp = (
        http.post(f"/api/orchestrators/{name}", params=params, json=value)
        if value is not None
        else (http.post(f"/api/orchestrators/{name}", params=params))
    )
    assert resp.status_code == 202, resp.text
    return str(resp.json()["id"])


def status(http: httpx.Client, instance_id: str, **params: str) -> dict[str, Any]:
    resp = http.get(f"/api/orchestrations/{instance_id}", params=params)
    assert resp.status_code in (200, 404), resp.text
    return dict(resp.json())


def finished(http: httpx.Client, instance_id: str, timeout: float = 20.0) -> dict[str, Any]:
    return dict(wait_for(lambda: _if_done(status(http, instance_id)), timeout=timeout))


def _if_done(doc: dict[str, Any]) -> dict[str, Any] | None:
    return doc if doc.get("runtimeStatus") in TERMINAL else None
