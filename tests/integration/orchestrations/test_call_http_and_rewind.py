"""``call_http`` against a loopback HTTP server this test starts, and rewinding failed instances.

Both go through the app's own SDK calls (``context.call_http``, ``client.rewind``) on a real host
subprocess; the 202 polling loop (a request with ``asynchronousPatternEnabled``) is driven through
``durable_http.perform`` with a real SQLite store, since azure-functions-durable 1.x never sends it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from durableagent.local.orchestrations import durable_http, work
from durableagent.local.store import Store
from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[2] / "apps" / "http_rewind_df"


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        _Handler.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
        if self.path == "/json":
            self._answer(200, b'{"hello": "world"}', {"Content-Type": "application/json", "X-Test": "1"})
        elif self.path == "/echo":
            doc = {
                "method": self.command,
                "body": body.decode(),
                "type": self.headers.get("Content-Type"),
                "custom": self.headers.get("X-Custom"),
            }
            self._answer(201, json.dumps(doc).encode(), {"Content-Type": "application/json"})
        elif self.path == "/accepted":
            port = self.server.server_address[1]
            location = f"http://127.0.0.1:{port}/done"
            self._answer(202, b"working", {"Location": location, "Retry-After": "1"})
        elif self.path == "/done":
            self._answer(200, b"finished", {"Content-Type": "text/plain"})
        else:
            self._answer(404, b"", {})

    do_GET = _handle
    do_POST = _handle


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    local = LocalHost(APP, store=tmp_path_factory.mktemp("httprw") / "store.sqlite")
    local.start()
    yield local
    assert local.stop() == 0, local.output()


@pytest.fixture
def http(host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=host.base_url, timeout=30) as client:
        yield client


def start(http: httpx.Client, name: str, value: Any) -> dict[str, Any]:
    resp = http.post(f"/api/start/{name}", json=value)
    assert resp.status_code == 202, resp.text
    return dict(resp.json())


def status(http: httpx.Client, links: dict[str, Any]) -> dict[str, Any]:
    return dict(http.get(links["statusQueryGetUri"]).json())


def ended(http: httpx.Client, links: dict[str, Any]) -> dict[str, Any]:
    terminal = ("Completed", "Failed", "Terminated")
    return dict(wait_for(lambda: (d := status(http, links))["runtimeStatus"] in terminal and d))


def test_call_http_get_returns_the_durable_http_response(http: httpx.Client, remote: str) -> None:
    links = start(http, "fetch", {"method": "GET", "uri": f"{remote}/json"})
    output = ended(http, links)["output"]
    assert (output["statusCode"], json.loads(output["content"])) == (200, {"hello": "world"})
    assert output["headers"]["X-Test"] == "1"
    history = http.get(links["statusQueryGetUri"] + "&showHistory=true").json()["historyEvents"]
    [completed] = [e for e in history if e["EventType"] == "TaskCompleted"]
    assert completed["FunctionName"] == "BuiltIn::HttpActivity"


def test_call_http_post_sends_content_and_headers(http: httpx.Client, remote: str) -> None:
    request = {
        "method": "POST",
        "uri": f"{remote}/echo",
        "content": {"n": 1},
        "headers": {"Content-Type": "application/json", "X-Custom": "yes"},
    }
    output = ended(http, start(http, "fetch", request))["output"]
    assert output["statusCode"] == 201
    assert json.loads(output["content"]) == {
        "method": "POST",
        "body": '{"n": 1}',
        "type": "application/json",
        "custom": "yes",
    }


def test_a_202_reaches_a_python_orchestrator_as_is(http: httpx.Client, remote: str) -> None:
    # azure-functions-durable 1.x sends no asynchronousPatternEnabled: no polling, as on Azure.
    output = ended(http, start(http, "fetch", {"method": "GET", "uri": f"{remote}/accepted"}))["output"]
    assert (output["statusCode"], output["content"]) == (202, "working")
    assert output["headers"]["Location"].endswith("/done")


def test_a_transport_failure_fails_the_task(http: httpx.Client) -> None:
    output = ended(http, start(http, "fetch", {"method": "GET", "uri": "http://127.0.0.1:9/nothing"}))[
        "output"
    ]
    assert "call_http: GET http://127.0.0.1:9/nothing failed (ClientConnectorError)." in output["error"]


def test_polling_follows_location_and_retry_after_durably(remote: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "store.sqlite")
    request = {
        "method": "POST",
        "uri": f"{remote}/accepted",
        "headers": {"x-functions-key": "secret", "X-Custom": "kept"},
        "asynchronousPatternEnabled": True,
    }

    async def scenario() -> tuple[Any, Any]:
        def add(conn: Any) -> int:
            return work.add_activity(conn, "i", "e", 3, durable_http.ACTIVITY_NAME, json.dumps(request), "t")

        row_id = await store.write(add)
        row = work.ActivityRow(row_id, "i", "e", 3, durable_http.ACTIVITY_NAME, json.dumps(request))
        event = await durable_http.perform(store, row, lambda: False)
        rows = await store.read(work.pending_activities)
        return event, rows

    _Handler.seen.clear()
    event, rows = asyncio.run(scenario())
    store.close()
    assert event is not None
    assert event["TaskScheduledId"] == 3
    assert json.loads(event["Result"])["content"] == "finished"
    first, poll = _Handler.seen
    assert (first["method"], first["path"], poll["method"], poll["path"]) == (
        "POST",
        "/accepted",
        "GET",
        "/done",
    )
    assert "x-functions-key" not in {k.lower() for k in poll["headers"]}  # CreateLocationPollRequest
    assert poll["headers"]["X-Custom"] == "kept"
    saved = json.loads(rows[0].input)  # the work row now holds the poll request (a restart resumes it)
    assert (saved["method"], saved["uri"]) == ("GET", f"{remote}/done")


def _run(tmp_path: Path) -> dict[str, str]:
    return {
        "marker": str(tmp_path / f"marker-{uuid.uuid4().hex}"),
        "log": str(tmp_path / f"log-{uuid.uuid4().hex}"),
    }


def _log(run: dict[str, str]) -> list[str]:
    return Path(run["log"]).read_text().split()


def test_rewind_runs_the_failed_activity_again(http: httpx.Client, tmp_path: Path) -> None:
    run = _run(tmp_path)
    links = start(http, "flaky_chain", run)
    failed = ended(http, links)
    assert failed["runtimeStatus"] == "Failed"
    assert _log(run) == ["a", "flaky"]
    Path(run["marker"]).touch()
    assert http.post(f"/api/rewind/{links['id']}").status_code == 202
    done = ended(http, links)
    assert (done["runtimeStatus"], done["output"]) == ("Completed", ["a", "ok", "b"])
    assert _log(run) == ["a", "flaky", "flaky", "b"]  # "a" did not run again


def test_rewind_of_a_parent_rewinds_its_failed_sub_orchestration(http: httpx.Client, tmp_path: Path) -> None:
    run = _run(tmp_path)
    links = start(http, "flaky_parent", run)
    assert ended(http, links)["runtimeStatus"] == "Failed"
    Path(run["marker"]).touch()
    assert http.post(f"/api/rewind/{links['id']}").status_code == 202
    done = ended(http, links)
    assert done["output"] == {"before": "p", "child": ["a", "ok", "b"]}
    assert _log(run) == ["p", "a", "flaky", "flaky", "b"]


def test_rewind_replays_an_orchestrator_that_failed_by_itself(http: httpx.Client, tmp_path: Path) -> None:
    run = _run(tmp_path)
    links = start(http, "picky", run)
    assert "the marker is missing" in ended(http, links)["output"]
    Path(run["marker"]).touch()
    assert http.post(f"/api/rewind/{links['id']}").status_code == 202
    assert ended(http, links)["output"] == "x"
    assert _log(run) == ["x"]


def test_rewind_is_refused_for_completed_and_unknown_instances(http: httpx.Client, remote: str) -> None:
    links = start(http, "fetch", {"method": "GET", "uri": f"{remote}/json"})
    ended(http, links)
    gone = http.post(f"/api/rewind/{links['id']}")
    assert gone.status_code == 409
    assert "rewind operation is only supported on failed orchestration instances" in gone.json()["error"]
    assert "No instance with ID" in http.post("/api/rewind/nobody").json()["error"]
