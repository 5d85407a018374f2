"""The sample served in both HTTP models at once: every answer is the same, byte for byte after
the values that must differ (ids, times, the port) are masked.

One host runs AgentFunctionApp's classic ``func.HttpRequest`` routes, the other the FastAPI-typed
routes of ``http_streaming=True`` (``PYTHON_ENABLE_INIT_INDEXING=1`` in the sample). The sample's own
suite also runs in both (conftest's ``fastapi`` parameter); this test compares them directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "weather"
RUN = "/agents/WeatherAgent/run"
_VOLATILE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"  # timestamps
    r"|[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"  # uuids, 128-bit hex ids
    r"|\b[0-9a-f]{16}\b"  # a session life's incarnation (in ETags)
)
HEADERS = ("content-type", "location", "allow", "retry-after", "preference-applied", "etag", "cache-control")


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LocalHost]]:
    started: dict[str, LocalHost] = {}
    for model, setting in (("classic", "0"), ("fastapi", "1")):
        host = LocalHost(
            SAMPLE,
            store=tmp_path_factory.mktemp(model) / "store.sqlite",
            env={"PYTHON_ENABLE_INIT_INDEXING": setting, "DURABLEAGENT_OFFLINE_FAULTS": "1"},
        )
        started[model] = host.start()
    assert "HTTP model: HTTP streams" in started["fastapi"].output()
    assert "HTTP model" not in started["classic"].output()
    yield started
    for host in started.values():
        assert host.stop() == 0, host.output()


def _mask(text: str, base: str) -> str:
    return _VOLATILE.sub("<id>", text.replace(base, "<base>"))


def _view(resp: httpx.Response, base: str) -> dict[str, Any]:
    body = resp.content.decode("utf-8")
    if "json" in resp.headers.get("content-type", ""):
        body = json.dumps(json.loads(body), sort_keys=True)
    return {
        "status": resp.status_code,
        "headers": {h: _mask(resp.headers[h], base) for h in HEADERS if h in resp.headers},
        "body": _mask(body, base),
    }


Step = Callable[[httpx.Client, dict[str, httpx.Response]], httpx.Response]


def _follow(name: str) -> Step:
    """GET the ``Location`` of an earlier step's response (each host's own ids)."""
    return lambda api, seen: api.get(seen[name].headers["location"])


STEPS: list[tuple[str, Step]] = [
    ("health", lambda api, _: api.get("/api/health")),
    ("openapi.json", lambda api, _: api.get("/api/openapi.json")),
    ("openapi.yaml", lambda api, _: api.get("/api/openapi.yaml")),
    ("docs", lambda api, _: api.get("/api/docs")),
    (
        "run json",
        lambda api, _: api.post(f"/api{RUN}", json={"message": "weather in Oslo?", "sessionId": "s1"}),
    ),
    (
        "run text",
        lambda api, _: api.post(
            f"/api{RUN}?sessionId=s1", content=b"and tomorrow?", headers={"content-type": "text/plain"}
        ),
    ),
    (
        "run async",
        lambda api, _: api.post(
            f"/api{RUN}", json={"message": "hi", "sessionId": "s2"}, headers={"Prefer": "respond-async"}
        ),
    ),
    ("turn status", _follow("run async")),
    ("conversation", lambda api, _: api.get("/api/agents/WeatherAgent/s1")),
    ("conversation page", lambda api, _: api.get("/api/agents/WeatherAgent/s1?limit=1")),
    ("unknown session", lambda api, _: api.get("/api/agents/WeatherAgent/nobody")),
    (
        "stale if-match",
        lambda api, _: api.post(
            f"/api{RUN}", json={"message": "hi", "sessionId": "s1"}, headers={"If-Match": '"stale.0"'}
        ),
    ),
    ("reset", lambda api, _: api.delete("/api/agents/WeatherAgent/s2")),
    (
        "invalid json",
        lambda api, _: api.post(f"/api{RUN}", content=b"{no", headers={"content-type": "application/json"}),
    ),
    ("invalid request", lambda api, _: api.post(f"/api{RUN}", json={"message": "hi", "colour": "red"})),
    ("too large", lambda api, _: api.post(f"/api{RUN}", json={"message": "x" * 70_000})),
    (
        "media type",
        lambda api, _: api.post(
            f"/api{RUN}", content=b"m=1", headers={"content-type": "application/x-www-form-urlencoded"}
        ),
    ),
    ("unknown agent", lambda api, _: api.post("/api/agents/Nobody/run", json={"message": "hi"})),
    ("method", lambda api, _: api.get(f"/api{RUN}")),
    ("model failure", lambda api, _: api.post(f"/api{RUN}", json={"message": "x #fail:rejected"})),
    ("no route", lambda api, _: api.get("/api/nothing/here")),
]


def test_every_route_answers_the_same_in_both_models(hosts: dict[str, LocalHost]) -> None:
    seen: dict[str, dict[str, httpx.Response]] = {model: {} for model in hosts}
    for name, step in STEPS:
        views = {}
        for model, host in hosts.items():
            with httpx.Client(base_url=host.base_url, timeout=30) as api:
                resp = step(api, seen[model])
            seen[model][name] = resp
            views[model] = _view(resp, host.base_url)
        assert views["fastapi"] == views["classic"], name
        assert views["classic"]["status"] < 500 or name == "model failure", (name, views["classic"])
    statuses = {name: resp.status_code for name, resp in seen["classic"].items()}
    assert statuses["run json"] == 200
    assert statuses["run async"] == 202
    assert statuses["too large"] == 413
    assert statuses["unknown agent"] == 404
    assert statuses["method"] == 405
