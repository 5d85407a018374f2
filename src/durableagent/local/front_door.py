"""The local host's ASGI application: function routes, Durable webhooks and the RPC listener.

Why: this is on the path of every request, so it is a raw ASGI callable (no framework layers):
resolve the route, check the key, read the body within its limit, build the worker's ``http``
datum, invoke, and write the function's response back. Host-level failures become problem
responses (``local.problems``); a function that raises becomes a 500 naming only its correlation
id, with the traceback in the server log.

Surfaces (told apart by the listening port):
* public port: ``/{routePrefix}/...`` functions, ``/runtime/webhooks/durabletask/...`` (system or
  master key always required), ``/admin/host/ping`` (readiness);
* RPC port (loopback): only ``/<128-bit token>/durabletask/...``, the ``rpcBaseUrl`` of the
  durableClient binding.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from azure.functions import meta

from durableagent.local import bench_trace, http_io, http_v2, problems
from durableagent.local.durable_api import DurableApi, DurableRequest
from durableagent.local.http_protocol import HostNames
from durableagent.local.http_v2 import HttpV2
from durableagent.local.indexing import FunctionPlan, HttpFunction
from durableagent.local.invoke import Invoker, new_invocation_id
from durableagent.local.keys import KeyRing, presented_key
from durableagent.local.router import Match, MethodNotAllowed, Router
from durableagent.logs import log_failure

log = logging.getLogger("durableagent.local.http")
WEBHOOK_PREFIX = "/runtime/webhooks/durabletask"
PING_PATH = "/admin/host/ping"


@dataclass(frozen=True)
class HttpRoute:
    """An HTTP function ready to serve: its call plan, trigger binding name and durableClient inputs."""

    function: HttpFunction
    plan: FunctionPlan
    trigger_binding: str
    clients: tuple[tuple[str, str], ...]  # (binding name, durableClient binding JSON)
    v2: HttpV2 | None = None  # the app's HTTP streams extension (FastAPI types), if it imports one


class FrontDoor:
    """The host's ASGI app on both listeners: functions and webhooks publicly, the Durable API on RPC."""

    def __init__(
        self,
        *,
        routes: Router[HttpRoute],
        durable_api: DurableApi,
        keys: KeyRing,
        invoker: Invoker,
        rpc_prefix: str,
        require_keys: bool,
        max_body_bytes: int,
        rpc_max_body_bytes: int,
        public_base_url: str,
        host_names: HostNames,
    ) -> None:
        """Wire the routes, keys and invoker; ``rpc_port`` is set once the RPC socket is bound."""
        self.routes = routes
        self.durable_api = durable_api
        self.keys = keys
        self.invoker = invoker
        self.rpc_prefix = rpc_prefix  # "/<token>/durabletask/"
        self.require_keys = require_keys
        self.max_body_bytes = max_body_bytes
        self.rpc_max_body_bytes = rpc_max_body_bytes
        self.public_base_url = public_base_url  # for links built on the RPC surface
        self.host_names = host_names  # the Host values that may go into links (else 421)
        self.rpc_port: int | None = None
        self.accepting = True

    async def __call__(self, scope: http_io.Scope, receive: http_io.Receive, send: http_io.Send) -> None:
        """Route one request; a failure of the host itself is a 500 problem, never uvicorn's text."""
        if scope["type"] != "http":
            return  # lifespan is off; websockets are not served
        started = False

        async def tracked(message: http_io.Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._route(scope, receive, tracked)
        except Exception as exc:  # noqa: BLE001 - the host's own error boundary
            log_failure(log, exc, "the host failed to serve %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await http_io.send_problem(send, problems.host_failed())

    async def _route(self, scope: http_io.Scope, receive: http_io.Receive, send: http_io.Send) -> None:
        """The RPC surface, the webhooks (system key), ping, else an HTTP function."""
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("utf-8", "replace") if isinstance(raw_path, bytes) else str(raw_path)
        server = scope.get("server")
        if server is not None and server[1] == self.rpc_port:
            if path.startswith(self.rpc_prefix):
                await self._durable(
                    scope, receive, send, path[len(self.rpc_prefix) :], "rpc", self.rpc_max_body_bytes
                )
            else:
                await http_io.send_problem(send, problems.not_found())
            return
        lowered = path.lower()
        if lowered.startswith(WEBHOOK_PREFIX) and (
            len(path) == len(WEBHOOK_PREFIX) or path[len(WEBHOOK_PREFIX)] == "/"
        ):
            headers = http_io.request_headers(scope)
            if not self.keys.allows_system(presented_key(headers, http_io.query_params(scope))):
                await http_io.send_problem(send, problems.unauthorized())
                return
            rest = path[len(WEBHOOK_PREFIX) :].lstrip("/")
            await self._durable(scope, receive, send, rest, "public", self.max_body_bytes)
            return
        if lowered == PING_PATH:
            await http_io.send_response(
                send, 200 if self.accepting else 503, [(b"content-length", b"0")], b""
            )
            return
        await self._function(scope, receive, send, path)

    async def _function(
        self, scope: http_io.Scope, receive: http_io.Receive, send: http_io.Send, path: str
    ) -> None:
        method = scope["method"]
        found = self.routes.resolve(method, path)
        if found is None:
            await http_io.send_problem(send, problems.not_found())
            return
        if isinstance(found, MethodNotAllowed):  # the Functions host routes by method too: a 404
            await http_io.send_problem(send, problems.method_not_accepted())
            return
        assert isinstance(found, Match)
        route: HttpRoute = found.target
        headers = http_io.request_headers(scope)
        host = headers.get("host")
        if host is not None and not self.host_names.accepts(host):
            await http_io.send_problem(send, problems.misdirected())
            return
        query = http_io.query_params(scope)
        if self.require_keys and not self.keys.allows(
            route.function.auth_level, route.function.name, presented_key(headers, query)
        ):
            await http_io.send_problem(send, problems.unauthorized())
            return
        try:
            body = await http_io.read_body(receive, headers, self.max_body_bytes)
        except http_io.BodyTooLarge:
            await http_io.refuse_body(send, receive, headers, problems.payload_too_large(self.max_body_bytes))
            return
        except http_io.ClientGone:
            return
        clients = {name: meta.Datum(binding, "string") for name, binding in route.clients}
        if route.v2 is not None:
            await self._function_v2(route, route.v2, (scope, receive, send), body, found.params, clients)
            return
        url = _url(scope, headers, path)
        inputs = {
            route.trigger_binding: http_io.http_datum(method, url, headers, query, found.params, body),
            **clients,
        }
        invocation_id = new_invocation_id()
        try:
            result = await self.invoker.invoke_response(
                route.plan,
                inputs,
                invocation_id=invocation_id,
                trace_parent=headers.get("traceparent"),
                trace_state=headers.get("tracestate", ""),
            )
            if isinstance(result, http_io.StreamedBody):
                await http_io.send_streamed(send, receive, result)
                return
            status, out_headers, out_body = http_io.response_parts(result)
        except Exception as exc:  # noqa: BLE001 - user code failed: a 500 problem with the invocation id
            log_failure(log, exc, "function %s failed (invocation %s)", route.function.name, invocation_id)
            await http_io.send_problem(send, problems.invocation_failed(invocation_id))
            return
        await http_io.send_response(send, status, out_headers, out_body)
        if bench_trace.ENABLED:
            bench_trace.reply(out_headers)

    async def _function_v2(
        self,
        route: HttpRoute,
        v2: HttpV2,
        connection: tuple[http_io.Scope, http_io.Receive, http_io.Send],
        body: bytes,
        params: dict[str, str],
        inputs: dict[str, meta.Datum],
    ) -> None:
        """An HTTP function of the FastAPI model: its response runs on the connection (``local/http_v2``)."""
        invocation_id = new_invocation_id()
        headers = http_io.request_headers(connection[0])
        sent = False
        send = connection[2]

        async def tracked(message: http_io.Message) -> None:
            nonlocal sent
            sent = True
            await send(message)

        try:
            await http_v2.serve(
                v2,
                self.invoker,
                route.plan,
                (route.trigger_binding, inputs, invocation_id),
                (connection[0], connection[1], tracked),
                body,
                params,
                (headers.get("traceparent"), headers.get("tracestate", "")),
            )
        except Exception as exc:  # noqa: BLE001 - user code failed: a 500 problem, or a cut stream
            log_failure(log, exc, "function %s failed (invocation %s)", route.function.name, invocation_id)
            if not sent:
                await http_io.send_problem(send, problems.invocation_failed(invocation_id))

    async def _durable(
        self,
        scope: http_io.Scope,
        receive: http_io.Receive,
        send: http_io.Send,
        rest: str,
        surface: str,
        limit: int,
    ) -> None:
        headers = http_io.request_headers(scope)
        host = headers.get("host")
        if surface == "public" and host is not None and not self.host_names.accepts(host):
            await http_io.send_problem(send, problems.misdirected())
            return
        try:
            body = await http_io.read_body(receive, headers, limit)
        except http_io.BodyTooLarge:
            await http_io.refuse_body(send, receive, headers, problems.payload_too_large(limit))
            return
        except http_io.ClientGone:
            return
        query = {k.lower(): v.split(",")[0] for k, v in http_io.query_params(scope).items()}
        request = DurableRequest(
            method=scope["method"],
            path=rest,
            query=query,
            headers=headers,
            body=body,
            surface=surface,
            public_base_url=_origin(scope, headers) if surface == "public" else self.public_base_url,
            raw_query=scope.get("query_string", b"").decode("latin-1"),
        )
        response = await self.durable_api.handle(request)
        out: http_io.Headers = [(b"content-length", str(len(response.body)).encode())]
        if response.content_type:
            out.append((b"content-type", response.content_type.encode()))
        out.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers)
        await http_io.send_response(send, response.status, out, response.body)


def _origin(scope: http_io.Scope, headers: dict[str, str]) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _url(scope: http_io.Scope, headers: dict[str, str], path: str) -> str:
    query = scope.get("query_string", b"")
    base = _origin(scope, headers) + path
    return f"{base}?{query.decode('latin-1')}" if query else base
