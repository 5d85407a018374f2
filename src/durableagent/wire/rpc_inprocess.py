"""In-process calls to a host's Durable HTTP API: the durableClient's RPC without a TCP round trip.

Why: ``DurableOrchestrationClient`` sends every management call (signal an entity, read its state)
as an HTTP request to the binding's ``rpcBaseUrl``. A host that runs the app in its own process
(durableagent's local host) serves that API itself, so the request can be handed to it directly:
the same URL, method, headers and JSON body, answered by the same handler, minus aiohttp, the
loopback socket and the HTTP parser on both sides (~0.7 ms of a turn on a 2-core machine).

Invariants:

* Nothing changes on Azure, or for a client whose ``rpcBaseUrl`` no host in this process
  registered: :func:`bind` then leaves the client alone and it talks HTTP as usual.
* The handler sees exactly what the HTTP listener would have passed on (the URL as aiohttp would
  send it), and its answer is decoded the way the SDK's ``http_utils`` decodes a response, so the
  client cannot tell the difference. A signal still returns only after the host committed it.
* A host registers before it serves its first request and unregisters when it stops; the key is
  its ``rpcBaseUrl``, which holds a per-start random token.
* ``DURABLEAGENT_INPROCESS_RPC=0`` turns the shortcut off: every call then goes over HTTP exactly
  as on Azure (the integration tests run the sample both ways).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

DISABLE_ENV = "DURABLEAGENT_INPROCESS_RPC"
# (method, url, headers with lower-case names, body) -> (status, body)
Handler = Callable[[str, str, Mapping[str, str], bytes], Coroutine[Any, Any, tuple[int, bytes]]]

_lock = threading.Lock()
_hosts: dict[str, tuple[Handler, asyncio.AbstractEventLoop]] = {}


def register(rpc_base_url: str, handler: Handler, loop: asyncio.AbstractEventLoop) -> None:
    """Serve calls to ``rpc_base_url`` with ``handler``, which runs on ``loop`` (the host's loop)."""
    with _lock:
        _hosts[rpc_base_url] = (handler, loop)


def unregister(rpc_base_url: str) -> None:
    with _lock:
        _hosts.pop(rpc_base_url, None)


def _lookup(rpc_base_url: str | None) -> tuple[Handler, asyncio.AbstractEventLoop] | None:
    if not rpc_base_url:
        return None
    with _lock:
        return _hosts.get(rpc_base_url)


def bind(client: Any) -> bool:
    """Route ``client``'s RPC calls in-process when its host registered; returns whether it did."""
    if os.environ.get(DISABLE_ENV) == "0":
        return False
    bindings = getattr(client, "_orchestration_bindings", None)
    base = getattr(bindings, "rpc_base_url", None)
    if _lookup(base) is None or not hasattr(client, "_post_async_request"):
        return False

    async def post(
        url: str,
        data: Any = None,
        trace_parent: str | None = None,
        trace_state: str | None = None,
        function_invocation_id: str | None = None,
    ) -> list[Any]:
        headers = _headers(trace_parent, trace_state, function_invocation_id)
        body = b""
        if data is not None:  # aiohttp's json=data: serialized with json.dumps, sent as application/json
            body = json.dumps(data).encode("utf-8")
            headers["content-type"] = "application/json"
        return await _call(base, "POST", url, headers, body)

    async def get(url: str, function_invocation_id: str | None = None) -> list[Any]:
        status, value = await _call(base, "GET", url, _headers(None, None, function_invocation_id), b"")
        return [status, "" if value is None else value]

    async def delete(url: str, function_invocation_id: str | None = None) -> list[Any]:
        return await _call(base, "DELETE", url, _headers(None, None, function_invocation_id), b"")

    client._post_async_request = post
    client._get_async_request = get
    if hasattr(client, "_delete_async_request"):
        client._delete_async_request = delete
    return True


def _headers(trace_parent: str | None, trace_state: str | None, invocation_id: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if trace_parent:
        headers["traceparent"] = trace_parent
    if trace_state:
        headers["tracestate"] = trace_state
    if invocation_id:
        headers["x-azure-functions-invocationid"] = invocation_id
    return headers


async def _call(base: str | None, method: str, url: str, headers: dict[str, str], body: bytes) -> list[Any]:
    found = _lookup(base)
    if found is None:
        raise ConnectionError("the durable host is no longer serving this client")  # the host stopped
    handler, loop = found
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:  # pragma: no cover - always called from a coroutine
        running = None
    if running is loop:
        status, raw = await handler(method, url, headers, body)
    else:
        future = asyncio.run_coroutine_threadsafe(handler(method, url, headers, body), loop)
        status, raw = await asyncio.wrap_future(future)
    text = raw.decode("utf-8").strip()  # aiohttp's response.json(content_type=None)
    return [status, json.loads(text) if text else None]
