"""A user's app in the HTTP streams model (azurefunctions.extensions.http.fastapi) on the local host.

tests/apps/fastapi_stream is written the way the extension's samples are, with no durableagent code.
Its stream waits on gates that another function opens, so each chunk is seen while the function's
body is provably still running (the release answers ``stream_finished: false``), without sleeps.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost, LocalHostError
from durableagent.testing.polling import wait_for

APP = Path(__file__).resolve().parents[2] / "apps" / "fastapi_stream"


@pytest.fixture(scope="module")
def fastapi_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    host = LocalHost(APP, store=tmp_path_factory.mktemp("fastapi") / "store.sqlite")
    host.start()
    yield host
    assert host.stop() == 0, host.output()


@pytest.fixture
def http(fastapi_host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fastapi_host.url("/api"), timeout=30) as client:
        yield client


def _events(lines: Iterator[str]) -> Iterator[str]:
    """The ``data:`` of each SSE event, as soon as its blank line arrives."""
    data = ""
    for line in lines:
        if line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and data:
            yield data
            data = ""


def test_chunks_arrive_while_the_function_still_runs(http: httpx.Client, fastapi_host: LocalHost) -> None:
    parts = 4
    with (
        httpx.Client(base_url=fastapi_host.url("/api"), timeout=30) as control,
        http.stream("GET", "/stream/gated", params={"parts": parts}) as resp,
    ):
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert "content-length" not in resp.headers  # chunked: the length is not known up front
        assert resp.headers["x-invocation"]  # the worker's x-ms-invocation-id request header
        events = _events(resp.iter_lines())
        for i in range(parts):
            assert next(events) == f"part {i} of gated"
            if i < parts - 1:  # the generator is parked on gate i: the function has not ended
                released = control.post(f"/release/gated/{i}").json()
                assert released == {"released": f"gated/{i}", "stream_finished": False}
        assert list(events) == []
    assert http.get("/finished/gated").json() == {"finished": True, "closed": True}


def test_a_client_that_leaves_closes_the_stream(http: httpx.Client) -> None:
    with http.stream("GET", "/stream/left", params={"parts": 3}) as resp:
        assert next(_events(resp.iter_lines())) == "part 0 of left"
    # The connection is gone while the generator waits on its first gate: it is cancelled.
    state = wait_for(lambda: (s := http.get("/finished/left").json())["closed"] and s)
    assert state == {"finished": False, "closed": True}


def test_upload_is_read_as_a_stream_and_a_dict_is_json(http: httpx.Client) -> None:
    body = os.urandom(300_000)
    resp = http.post("/upload", params={"x": "1"}, content=body)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {
        "bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "query": {"x": "1"},
    }


def test_sync_function_route_params_status_and_headers(http: httpx.Client) -> None:
    resp = http.get("/text/Ada")
    assert (resp.status_code, resp.text, resp.headers["x-path"]) == (201, "Hello, Ada!", "/api/text/Ada")
    assert http.get("/text").text == "Hello, world!"  # optional route parameter left out


def test_forwarded_headers_are_the_hosts_own(http: httpx.Client, fastapi_host: LocalHost) -> None:
    resp = http.get("/text", headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "gopher"})
    host = fastapi_host.base_url.split("://", 1)[1]
    assert json.loads(resp.headers["x-seen"]) == {
        "x-forwarded-host": host,
        "x-forwarded-proto": "http",
        "x-forwarded-for": "127.0.0.1",
    }


def test_route_constraints_still_route(http: httpx.Client) -> None:
    assert http.post("/release/other/7").json()["released"] == "other/7"
    assert http.post("/release/other/seven").status_code == 404  # {step:int}


def test_a_failing_function_is_a_500_problem_without_its_text(http: httpx.Client) -> None:
    resp = http.get("/fails")
    assert resp.status_code == 500
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["type"] == "https://durableagent.dev/problems/invocation-failed"
    assert "secret" not in resp.text


def test_a_classic_typed_function_does_not_load(http: httpx.Client, fastapi_host: LocalHost) -> None:
    assert http.get("/classic").status_code == 404
    output = fastapi_host.output()
    assert "Error: the 'classic' function is in error: type of req binding" in output
    assert "HTTP model: HTTP streams (azurefunctions.extensions.http.fastapi" in output


def test_durable_client_binding_in_this_model(http: httpx.Client) -> None:
    started = http.post("/orchestrations", json="Ada")
    assert started.status_code == 202
    instance = started.json()["id"]
    done = wait_for(
        lambda: (s := http.get(f"/orchestrations/{instance}").json())["status"] == "Completed" and s
    )
    assert done["output"] == "Hello, Ada!"


def test_the_extension_without_init_indexing_is_refused(tmp_path: Path) -> None:
    host = LocalHost(APP, store=tmp_path / "store.sqlite", env={"PYTHON_ENABLE_INIT_INDEXING": ""})
    with pytest.raises(LocalHostError) as refused:
        host.start()
    assert "PYTHON_ENABLE_INIT_INDEXING is not set to 1" in str(refused.value) + host.output()
