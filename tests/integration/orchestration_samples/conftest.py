"""The four orchestration samples on the local host: start over HTTP, follow the check-status links.

Every test drives a sample exactly as its README does: ``POST`` the sample's start route, then use
the URLs of the Durable check-status payload (``create_check_status_response``) verbatim.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
TERMINAL = ("Completed", "Failed", "Terminated", "Canceled")


@pytest.fixture(scope="module")
def sample_host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalHost]:
    """The module's ``SAMPLE`` (a folder of samples/) on a subprocess host with a file store."""
    host = LocalHost(
        SAMPLES / request.module.SAMPLE, store=tmp_path_factory.mktemp("sample") / "store.sqlite"
    )
    host.start()
    yield host
    assert host.stop() == 0, host.output()


@pytest.fixture
def http(sample_host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sample_host.base_url, timeout=30) as client:
        yield client


def start(http: httpx.Client, route: str, body: Any) -> dict[str, Any]:
    """POST the start route; the 202 check-status payload."""
    resp = http.post(route, json=body)
    assert resp.status_code == 202, resp.text
    links = dict(resp.json())
    assert resp.headers["Location"] == links["statusQueryGetUri"]
    return links


def status(http: httpx.Client, links: dict[str, Any]) -> dict[str, Any]:
    resp = http.get(links["statusQueryGetUri"])
    assert resp.status_code in (200, 202), resp.text
    return dict(resp.json())


def finished(http: httpx.Client, links: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    """The status once the orchestration has ended."""
    return dict(
        wait_for(lambda: (d := status(http, links))["runtimeStatus"] in TERMINAL and d, timeout=timeout)
    )


def history(http: httpx.Client, agent: str, session: str) -> list[dict[str, Any]]:
    """The session's conversation, as ``GET /api/agents/{agent}/{session}`` shows it."""
    resp = http.get(f"/api/agents/{agent}/{session}")
    assert resp.status_code == 200, resp.text
    return list(resp.json()["conversation_history"])
