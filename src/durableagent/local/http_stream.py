"""Streamed HTTP responses: any function's response whose body is produced while it is sent.

Why: the Functions worker hands the host a whole body, but an app may return a response that
streams (Server-Sent Events, large downloads). The host recognizes one by its shape, Starlette's
``StreamingResponse`` (``status_code``, ``raw_headers``, ``body_iterator``): that is what the Azure
Functions HTTP streams extension's apps return (``azurefunctions.extensions.http.fastapi`` re-exports
Starlette's), and what durableagent's own ``http.sse.StreamingHttpResponse`` imitates. Nothing here
knows any route.

Sending: chunk by chunk (``more_body``), chunked transfer encoding (no ``Content-Length``), while a
second task listens for ``http.disconnect``: a client that leaves ends the body iterator at once
(``aclose``), so the app's generator stops; nothing waits on a slow client but its own send.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from durableagent.local.http_io import Headers, Receive, Send

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
