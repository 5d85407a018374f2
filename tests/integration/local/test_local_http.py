"""HTTP functions of plain_df through the real front door: routing, bodies, headers, cookies, errors."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

MIB = 1024 * 1024


def _problem(resp: httpx.Response, status: int) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    doc: dict[str, object] = resp.json()
    assert doc["status"] == status
    assert str(doc["type"]).startswith("https://durableagent.dev/problems/")
    assert set(doc) == {"type", "title", "status", "detail"}
    return doc


def test_optional_parameter(http: httpx.Client) -> None:
    assert http.get("/api/hello").text == "Hello, world!"
    assert http.get("/api/hello/").text == "Hello, world!"
    assert http.get("/api/hello/Ada").text == "Hello, Ada!"


def test_precedence_constraints_and_case(http: httpx.Client) -> None:
    assert http.get("/api/items/42").json() == {"kind": "id", "id": 42}
    assert http.get("/api/items/abc").json() == {"kind": "name", "name": "abc"}
    assert http.get("/api/items/special").json() == {"kind": "literal"}
    assert http.get("/API/Items/SPECIAL").json() == {"kind": "literal"}


def test_catch_all(http: httpx.Client) -> None:
    assert http.get("/api/files/a/b/c.txt").json() == {"rest": "a/b/c.txt"}
    assert http.get("/api/files").json() == {"rest": None}


def test_unknown_path_and_wrong_method_are_404_problems(http: httpx.Client) -> None:
    _problem(http.get("/api/nope"), 404)
    _problem(http.get("/elsewhere"), 404)
    resp = http.delete("/api/items/5")  # a GET-only function: 404 like the Functions host, not 405
    _problem(resp, 404)
    assert "allow" not in resp.headers


def test_bytes_body_headers_query_and_context(http: httpx.Client, plain_host: LocalHost) -> None:
    body = os.urandom(4096)
    resp = http.post("/api/echo?a=1&b=two", content=body, headers={"X-Custom": "yes"})
    assert resp.status_code == 200
    assert resp.content == body
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["x-echo-header"] == "yes"
    assert json.loads(resp.headers["x-echo-query"]) == {"a": "1", "b": "two"}
    assert resp.headers["x-echo-url"] == f"{plain_host.base_url}/api/echo?a=1&b=two"
    assert resp.headers["x-function-name"] == "echo"
    assert len(resp.headers["x-invocation-id"]) == 36
    assert http.put("/api/echo", content=b"").headers["x-echo-method"] == "PUT"


def test_multiple_set_cookie_and_request_cookies(http: httpx.Client) -> None:
    resp = http.get("/api/cookies")
    cookies = resp.headers.get_list("set-cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("session=abc")
    assert "HttpOnly" in cookies[0]
    assert cookies[1].startswith("theme=dark")
    assert "Max-Age=3600" in cookies[1]
    assert resp.headers["x-extra"] == "1"
    who = http.get("/api/whoami", headers={"Cookie": "a=1; b=2", "User-Agent": "tester"}).json()
    assert who == {"cookie": "a=1; b=2", "agent": "tester"}


def test_status_only_response(http: httpx.Client) -> None:
    resp = http.get("/api/status/204")
    assert resp.status_code == 204
    assert resp.content == b""
    assert http.get("/api/status/418").status_code == 418


def test_invocation_failure_is_a_500_problem_without_exception_text(
    http: httpx.Client, plain_host: LocalHost
) -> None:
    resp = http.post("/api/boom", content=b"body-marker-4711")
    doc = _problem(resp, 500)
    assert "secret-boom-text" not in resp.text
    correlation = resp.headers["x-correlation-id"]
    assert correlation in str(doc["detail"])
    log: str = wait_for(
        lambda: next((o for o in [plain_host.output()] if f"invocation {correlation}" in o), None)
    )
    assert "[RuntimeError]" in log  # the failure's type, for the operator
    assert "secret-boom-text" not in log  # never its text (durableagent.logs); --debug-logs adds it
    assert "body-marker-4711" not in log


def test_body_limit_with_content_length(http: httpx.Client) -> None:
    assert len(http.post("/api/echo", content=b"x" * MIB).content) == MIB
    _problem(http.post("/api/echo", content=b"x" * (MIB + 1)), 413)


def test_body_limit_with_chunked_transfer(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * 65536  # 2.5 MiB in total, no Content-Length

    resp = http.post("/api/echo", content=chunks())
    _problem(resp, 413)
    assert http.get("/api/hello").status_code == 200  # the host is fine afterwards


def test_readiness_endpoint(http: httpx.Client) -> None:
    assert http.get("/admin/host/ping").status_code == 200
