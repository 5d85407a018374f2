"""The front door as a plain ASGI callable (no sockets): limits, problems, keys, surfaces."""

from __future__ import annotations

import asyncio
import json
import types
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from durableagent.local import http_io
from durableagent.local.app_loading import index_app
from durableagent.local.durable_api import DurableApi, DurableRequest, DurableResponse
from durableagent.local.front_door import FrontDoor, HttpRoute
from durableagent.local.http_protocol import HostNames
from durableagent.local.indexing import plan_function
from durableagent.local.invoke import Invoker
from durableagent.local.keys import build_keyring
from durableagent.local.router import Router
from durableagent.local.settings import KeySettings

LIMIT = 1000
RPC_PORT = 40001


def _module() -> types.ModuleType:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="echo", methods=["POST"])
    def echo(req: func.HttpRequest) -> func.HttpResponse:
        resp = func.HttpResponse(req.get_body(), mimetype="application/octet-stream")
        resp.headers.add("Set-Cookie", "a=1")
        resp.headers.add("Set-Cookie", "b=2; Path=/")
        return resp

    @app.route(route="fail", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    async def fail(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret text")

    module = types.ModuleType("front_door_test_app")
    module.__file__ = __file__
    module.app = app  # type: ignore[attr-defined]
    return module


@pytest.fixture
def door() -> Iterator[FrontDoor]:
    index = index_app(_module())
    invoker = Invoker(".", max_workers=2)
    keys, _ = build_keyring(KeySettings(master="mk", host={"default": "hk"}), {"system": "sk"}, environ={})
    api = DurableApi()

    async def ping(req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        return DurableResponse.json(200, {"surface": req.surface, "base": req.public_base_url})

    api.add_route("ping", ["GET"], ping)
    routes: Router[HttpRoute] = Router("api")
    for fn in index.http:
        routes.add(fn.route, fn.methods, HttpRoute(fn, plan_function(fn.function), "req", ()))
    front = FrontDoor(
        host_names=HostNames("127.0.0.1"),
        routes=routes,
        durable_api=api,
        keys=keys,
        invoker=invoker,
        rpc_prefix="/tok/durabletask/",
        require_keys=True,
        max_body_bytes=LIMIT,
        rpc_max_body_bytes=LIMIT,
        public_base_url="http://127.0.0.1:7071",
    )
    front.rpc_port = RPC_PORT
    yield front
    invoker.shutdown()


class Exchange:
    def __init__(self, chunks: list[bytes], endless: bool = False) -> None:
        self.chunks, self.endless = chunks, endless
        self.pulled = 0
        self.pulled_before_response: int | None = None
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        chunk = b"x" * 256 if self.endless else self.chunks.pop(0) if self.chunks else b""
        self.pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": self.endless or bool(self.chunks)}

    async def send(self, message: dict[str, Any]) -> None:
        if not self.messages:
            self.pulled_before_response = self.pulled
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return list(self.messages[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def _call(
    door: FrontDoor,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
    exchange: Exchange | None = None,
    port: int = 7071,
) -> Exchange:
    ex = exchange or Exchange([])
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "server": ("127.0.0.1", port),
        "scheme": "http",
    }
    asyncio.run(door(scope, ex.receive, ex.send))
    return ex


def _problem(ex: Exchange) -> dict[str, Any]:
    assert (b"content-type", b"application/problem+json") in ex.headers
    doc: dict[str, Any] = json.loads(ex.body)
    assert doc["type"].startswith("https://durableagent.dev/problems/")
    assert doc["status"] == ex.status
    return doc


def test_declared_oversize_body_is_refused_without_reading(door: FrontDoor) -> None:
    ex = _call(
        door,
        "POST",
        "/api/echo",
        headers={"x-functions-key": "hk", "content-length": str(LIMIT + 1)},
        exchange=Exchange([b"x" * (LIMIT + 1)]),
    )
    assert ex.status == 413
    assert ex.pulled_before_response == 0  # refused before reading; the rest is then discarded (lingering)
    assert ex.pulled == LIMIT + 1
    _problem(ex)


def test_chunked_oversize_body_stops_at_the_limit(door: FrontDoor) -> None:
    ex = _call(
        door, "POST", "/api/echo", headers={"x-functions-key": "hk"}, exchange=Exchange([], endless=True)
    )
    assert ex.status == 413
    assert ex.pulled_before_response is not None
    assert LIMIT < ex.pulled_before_response <= LIMIT + 256
    assert ex.pulled <= http_io.LINGER_BYTES + LIMIT + 256  # lingering discards a bounded amount, then closes


def test_body_at_the_limit_is_echoed_with_every_cookie(door: FrontDoor) -> None:
    ex = _call(door, "POST", "/api/echo", query="code=hk", exchange=Exchange([b"a" * 500, b"b" * 500]))
    assert ex.status == 200
    assert ex.body == b"a" * 500 + b"b" * 500
    cookies = [v for k, v in ex.headers if k == b"set-cookie"]
    assert cookies == [b"a=1", b"b=2; Path=/"]


def test_missing_or_wrong_key_is_401(door: FrontDoor) -> None:
    for headers in ({}, {"x-functions-key": "wrong"}, {"x-functions-key": "sk"}):
        ex = _call(door, "POST", "/api/echo", headers=headers, exchange=Exchange([b"{}"]))
        assert ex.status == 401
        assert any(k == b"www-authenticate" for k, _ in ex.headers)
        _problem(ex)


def test_function_exception_is_a_500_problem_with_a_correlation_id(
    door: FrontDoor, caplog: pytest.LogCaptureFixture
) -> None:
    ex = _call(door, "GET", "/api/fail")
    doc = _problem(ex)
    assert ex.status == 500
    assert b"secret" not in ex.body
    correlation = dict(ex.headers)[b"x-correlation-id"].decode()
    assert correlation in doc["detail"]
    assert "secret text" not in caplog.text  # the log names the failure's type, never its text
    assert "[RuntimeError]" in caplog.text or "Error]" in caplog.text
    assert correlation in caplog.text


def test_not_found_and_a_method_the_function_does_not_accept(door: FrontDoor) -> None:
    assert _problem(_call(door, "GET", "/api/nothing"))["status"] == 404
    ex = _call(door, "GET", "/api/echo")  # a POST-only function: the Functions host answers 404, not 405
    assert ex.status == 404
    assert not any(name == b"allow" for name, _ in ex.headers)
    assert "method" in _problem(ex)["detail"]


def test_webhooks_need_the_system_or_master_key(door: FrontDoor) -> None:
    assert _call(door, "GET", "/runtime/webhooks/durabletask/entities/x/y").status == 401
    assert _call(door, "GET", "/runtime/webhooks/durabletask/entities/x/y", query="code=hk").status == 401
    assert _call(door, "GET", "/runtime/webhooks/durabletask/entities/x/y", query="code=sk").status == 404
    assert (
        _call(door, "GET", "/Runtime/Webhooks/DurableTask/x", headers={"x-functions-key": "mk"}).status == 404
    )


def test_rpc_port_serves_only_the_token_path(door: FrontDoor) -> None:
    assert _call(door, "GET", "/api/fail", port=RPC_PORT).status == 404
    assert (
        _call(
            door, "GET", "/runtime/webhooks/durabletask/entities/x/y", query="code=sk", port=RPC_PORT
        ).status
        == 404
    )
    rpc = _call(door, "GET", "/tok/durabletask/ping", port=RPC_PORT)
    assert rpc.status == 200
    assert json.loads(rpc.body) == {"surface": "rpc", "base": "http://127.0.0.1:7071"}
    public = _call(
        door, "GET", "/runtime/webhooks/durabletask/ping", query="code=sk", headers={"host": "localhost:9"}
    )
    assert json.loads(public.body) == {"surface": "public", "base": "http://localhost:9"}
    assert _call(door, "GET", "/tok/durabletask/ping").status == 404  # not on the public port
    assert _call(door, "GET", "/admin/host/ping").status == 200


def test_a_client_that_disconnects_mid_body_invokes_nothing(door: FrontDoor) -> None:
    messages = [
        {"type": "http.request", "body": b"partial", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/echo",
        "raw_path": b"/api/echo",
        "query_string": b"code=hk",
        "headers": [],
        "server": ("127.0.0.1", 7071),
        "scheme": "http",
    }
    asyncio.run(door(scope, receive, send))
    assert sent == []
