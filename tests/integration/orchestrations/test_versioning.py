"""Orchestration versioning over real HTTP: defaultVersion, start_new(version=...), sub-orchestrator
versions, forward protection (Reject) and Fail, with two versions of one orchestration in flight
across a restart that changes host.json (the SDK's orchestration_versioning sample scenario)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[2] / "apps" / "versioning_df"


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    target = tmp_path / "app"
    shutil.copytree(APP, target)
    return target


def set_durable(app_dir: Path, **durable: str) -> None:
    doc = json.loads((app_dir / "host.json").read_text())
    doc["extensions"]["durableTask"].update(durable)
    (app_dir / "host.json").write_text(json.dumps(doc))


@pytest.fixture
def host(app_dir: Path, tmp_path: Path) -> Iterator[LocalHost]:
    local = LocalHost(app_dir, store=tmp_path / "store.sqlite")
    yield local
    if local.running:
        assert local.stop() == 0, local.output()


def start(http: httpx.Client, version: str | None = None) -> dict[str, Any]:
    resp = http.post("/api/orchestrators/versioned", params={"version": version} if version else None)
    assert resp.status_code == 202, resp.text
    return dict(resp.json())


def status(http: httpx.Client, links: dict[str, Any]) -> dict[str, Any]:
    return dict(http.get(links["statusQueryGetUri"]).json())


def finished(http: httpx.Client, links: dict[str, Any]) -> dict[str, Any]:
    return dict(
        wait_for(lambda: (d := status(http, links))["runtimeStatus"] in ("Completed", "Failed") and d)
    )


def test_two_versions_in_flight_across_a_default_version_change(host: LocalHost, app_dir: Path) -> None:
    host.start()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        old = start(http)  # defaultVersion 1.0
        newer = start(http, "2.0")  # newer than this host's 1.0: not run here (CurrentOrOlder + Reject)
        wait_for(lambda: status(http, old)["customStatus"] == "waiting")
        assert status(http, old)["version"] == "1.0"
        pending = status(http, newer)
        assert (pending["runtimeStatus"], pending["version"]) == ("Pending", "2.0")
    set_durable(app_dir, defaultVersion="2.0")  # "deploy" the new version with instances in flight
    host.restart()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        current = start(http)  # defaultVersion 2.0
        for links in (newer, current):
            wait_for(lambda links=links: status(http, links)["customStatus"] == "waiting")
        for links in (old, newer, current):
            resp = http.post(links["sendEventPostUri"].replace("{eventName}", "Continue"), json=True)
            assert resp.status_code == 202, resp.text
        done_old, done_newer, done_current = (finished(http, links) for links in (old, newer, current))
    assert done_old["output"] == {
        "version": "1.0",
        "explicit": "0.9",
        "default": "2.0",
        "greeting": "Hello from A!",
    }
    assert done_newer["output"] == {
        "version": "2.0",
        "explicit": "0.9",
        "default": "2.0",
        "greeting": "Hello from B!",
    }
    assert done_current["output"]["greeting"] == "Hello from B!"
    assert done_current["version"] == "2.0"


def test_fail_strategy_fails_an_instance_newer_than_the_host(host: LocalHost, app_dir: Path) -> None:
    set_durable(app_dir, versionFailureStrategy="Fail")
    host.start()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        doc = finished(http, start(http, "3.1"))
    assert doc["runtimeStatus"] == "Failed"
    assert "The orchestration version '3.1' is greater than the worker version '1.0'" in doc["output"]


def test_strict_runs_only_its_own_version_and_none_runs_all(host: LocalHost, app_dir: Path) -> None:
    set_durable(app_dir, versionMatchStrategy="Strict", versionFailureStrategy="Fail")
    host.start()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        older = finished(http, start(http, "0.5"))
        assert "'0.5' does not match the worker version '1.0'" in older["output"]
        same = start(http, "1.0")
        wait_for(lambda: status(http, same)["customStatus"] == "waiting")
    set_durable(app_dir, versionMatchStrategy="None")
    host.restart()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        anything = start(http, "99")
        wait_for(lambda: status(http, anything)["customStatus"] == "waiting")
