"""ASGI plumbing for the front door: bounded body reads, the ``http`` datum, and responses.

Why: every request crosses these few functions, so they are kept small and allocation-light, and
they hold two rules that must not drift: a body is never read past the limit (a declared
Content-Length over the limit is refused without reading, a chunked body is cut off as soon as it
crosses it), and a function's ``http`` datum is turned into exactly the status, headers, cookies
and bytes it describes.

Streamed responses: the Functions worker hands the host a whole body, but an app may return a
response that streams (Server-Sent Events, large downloads). The host recognizes one by its shape,
Starlette's ``StreamingResponse`` (``status_code``, ``raw_headers``, ``body_iterator``): that is what
the Azure Functions HTTP streams extension's apps return (``azurefunctions.extensions.http.fastapi``
re-exports Starlette's), and what durableagent's own ``http.sse.StreamingHttpResponse`` imitates.
Nothing here knows any route. It is sent chunk by chunk (``more_body``), chunked transfer encoding
(no ``Content-Length``), while a second task listens for ``http.disconnect``: a client that leaves
ends the body iterator at once (``aclose``), so the app's generator stops; nothing waits on a slow
client but its own send.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from azure.functions import meta

from durableagent.contract.problems import Problem, render

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


class BodyTooLarge(Exception):
    """The request body exceeds the limit (nothing past the limit was read)."""


class ClientGone(Exception):
    """The client disconnected before sending the whole body (nothing is invoked)."""


def request_headers(scope: Scope) -> dict[str, str]:
    """Lower-cased header names; repeated headers joined with ``,`` (ASP.NET ``StringValues``)."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


def query_params(scope: Scope) -> dict[str, str]:
    """Query parameters; repeated names joined with ``,``."""
    raw = scope.get("query_string", b"")
    if not raw:
        return {}
    out: dict[str, str] = {}
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        out[name] = f"{out[name]},{value}" if name in out else value
    return out


def content_length(headers: dict[str, str]) -> int | None:
    """The ``Content-Length`` header as an int, or None if absent or not a number."""
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value.split(",")[0])
    except ValueError:
        return None


LINGER_BYTES = 16 * 1024 * 1024
LINGER_SECONDS = 2.0


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The whole body, or :class:`BodyTooLarge` without reading more than ``limit`` bytes.

    :class:`ClientGone` when the client disconnects first (a truncated body is never passed on).
    """
    declared = content_length(headers)
    if declared is not None and declared > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def refuse_body(send: Send, receive: Receive, headers: dict[str, str], problem: Problem) -> None:
    """Answer a too-large body at once, then linger: discard what the client still sends.

    The 413 goes out before any more of the body is read. Clients that write their whole body
    before reading (``http.client``, ``httpx``) would then hit a reset connection, so, like nginx's
    lingering close, the rest is read and thrown away for a bounded time and size (never kept)
    before the connection closes. A client that asked ``Expect: 100-continue`` sent no body.
    """
    await send_problem(send, problem)
    if headers.get("expect", "").lower() == "100-continue":
        return
    try:
        await asyncio.wait_for(_discard(receive, LINGER_BYTES), LINGER_SECONDS)
    except asyncio.TimeoutError:
        return


async def _discard(receive: Receive, budget: int) -> None:
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def send_response(send: Send, status: int, headers: Headers, body: bytes) -> None:
    """Send a complete response: start with ``status`` and ``headers``, then the whole ``body``."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def problem_parts(problem: Problem) -> tuple[int, Headers, bytes]:
    """Status, ASGI headers and body of ``problem`` (the one renderer: ``contract.problems.render``)."""
    status, headers, body = render(problem)
    out: Headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
    out.append((b"content-length", str(len(body)).encode()))
    return status, out, body


async def send_problem(send: Send, problem: Problem) -> None:
    """Answer with ``problem`` as application/problem+json."""
    await send_response(send, *problem_parts(problem))


def http_datum(
    method: str, url: str, headers: dict[str, str], query: dict[str, str], route: dict[str, str], body: bytes
) -> meta.Datum:
    """The ``httpTrigger`` datum the worker builds (raw bytes body, string fields)."""
    return meta.Datum(
        type="http",
        value={
            "method": meta.Datum(method, "string"),
            "url": meta.Datum(url, "string"),
            "headers": {k: meta.Datum(v, "string") for k, v in headers.items()},
            "query": {k: meta.Datum(v, "string") for k, v in query.items()},
            "params": {k: meta.Datum(v, "string") for k, v in route.items()},
            "body": meta.Datum(body, "bytes"),
        },
    )


def _text(datum: Any) -> str:
    return str(datum.value if isinstance(datum, meta.Datum) else datum)


def response_parts(datum: meta.Datum | None) -> tuple[int, Headers, bytes]:
    """Status, headers and body for a function's encoded ``$return`` (``http`` or ``string`` datum)."""
    if datum is None:
        return 204, [], b""
    if datum.type == "string":
        body = str(datum.value).encode()
        return (
            200,
            [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
            body,
        )
    if datum.type != "http":
        raise TypeError(f"unsupported HTTP output datum type {datum.type!r}")
    value = datum.value
    status = int(_text(value["status_code"]))
    body_datum = value.get("body")
    body = b"" if body_datum is None else body_datum.value
    if isinstance(body, str):
        body = body.encode()
    headers: Headers = []
    for name, header in value.get("headers", {}).items():
        lname = name.lower()
        if lname in ("content-length", "transfer-encoding"):
            continue
        headers.append((lname.encode("latin-1"), _text(header).encode("latin-1")))
    for cookie in value.get("cookies") or ():
        for morsel in cookie.values():
            headers.append((b"set-cookie", morsel.OutputString().encode("latin-1")))
    if status not in (204, 304) and not (100 <= status < 200):
        headers.append((b"content-length", str(len(body)).encode()))
    else:
        body = b""
    return status, headers, body


# -- streamed responses ----------------------------------------------------------------------

_HOP_BY_HOP = frozenset({b"content-length", b"transfer-encoding", b"connection"})


@dataclass(frozen=True)
class StreamedBody:
    """A function's streamed response: status, headers and the chunks still to come."""

    status: int
    headers: Headers
    chunks: AsyncIterator[Any]  # bytes, or str (encoded with the charset, UTF-8)


def streamed_body(result: Any) -> StreamedBody | None:
    """The streamed response ``result`` is (Starlette's ``StreamingResponse`` shape), or None."""
    chunks = getattr(result, "body_iterator", None)
    if chunks is None or not hasattr(chunks, "__anext__"):
        return None
    raw = getattr(result, "raw_headers", None) or []
    headers: Headers = [(bytes(k).lower(), bytes(v)) for k, v in raw if bytes(k).lower() not in _HOP_BY_HOP]
    return StreamedBody(int(getattr(result, "status_code", 200)), headers, chunks)


async def _disconnected(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def send_streamed(send: Send, receive: Receive, body: StreamedBody) -> None:
    """Send ``body`` as it is produced; stop (closing the iterator) when the client disconnects."""
    await send({"type": "http.response.start", "status": body.status, "headers": body.headers})
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        while True:
            step = asyncio.ensure_future(anext(body.chunks))
            done, _ = await asyncio.wait({step, gone}, return_when=asyncio.FIRST_COMPLETED)
            if step not in done:
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await step
                return
            try:
                chunk = step.result()
            except StopAsyncIteration:
                break
            data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
            if data:
                await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        gone.cancel()
        closer = getattr(body.chunks, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                await closer()
