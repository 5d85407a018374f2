"""The streamed-reply seam end to end: a handler's ``StreamReply`` leaves as a StreamingResponse.

tests/apps/stream_seam registers a handler written like the app's own routes (``func.HttpRequest``
in, ``StreamReply`` out) through ``fastapi_function`` in an ``http_streaming=True`` app on the
local host. Each event is read while the handler's generator is parked on a gate (the release
reports ``stream_done: false``); the agent routes of the same app keep working beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost

APP = Path(__file__).resolve().parents[2] / "apps" / "stream_seam"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    host = LocalHost(APP, store=tmp_path_factory.mktemp("seam") / "store.sqlite")
    host.start()
    with httpx.Client(base_url=host.url("/api"), timeout=30) as client:
        yield client
    assert host.stop() == 0, host.output()


def test_a_stream_reply_is_sent_event_by_event(api: httpx.Client) -> None:
    with api.stream("GET", "/ticks/k1") as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert resp.headers["cache-control"] == "no-cache"
        lines = resp.iter_lines()
        for n in range(3):
            assert [next(lines), next(lines), next(lines), next(lines)] == [
                f"id: {n}",
                "event: tick",
                f"data: {json.dumps({'key': 'k1', 'n': n})}",
                "",
            ]
            if n < 2:
                assert api.post(f"/ticks/k1/release/{n}").json() == {"stream_done": False}
        assert list(lines) == []
    assert api.post("/ticks/k1/release/9").json() == {"stream_done": True}


def test_agent_routes_of_the_same_app(api: httpx.Client) -> None:
    assert api.get("/health").json()["agents"][0]["name"] == "EchoAgent"
    reply = api.post("/agents/EchoAgent/run", json={"message": "hello", "sessionId": "s"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["sessionId"] == "s"
