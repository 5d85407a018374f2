"""The seam every streamed response goes out through: SSE frames, headers, and the response object.

Why: the routes produce a stream as an :class:`EventStream`, an async iterator of SSE-encoded bytes
plus status and headers, and nothing else. How it leaves the process is the host's business:

* a host that streams (durableagent's local host; on Azure, the HTTP streams extension's FastAPI
  mode) gets a :class:`StreamingHttpResponse`, which has the shape of Starlette's
  ``StreamingResponse`` (``status_code``, ``raw_headers``, ``body_iterator``): the local host
  sends any such object chunk by chunk, and the FastAPI mode can wrap ``EventStream.body`` in its
  own ``StreamingResponse``;
* any other host (the plain Azure Functions Python worker, which only takes whole bodies) gets the
  stream buffered to its end in an ordinary ``func.HttpResponse``: the same bytes, at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import azure.functions as func

SSE_MEDIA_TYPE = "text/event-stream"
KEEPALIVE = b": keep-alive\n\n"
RETRY = b"retry: 1000\n\n"  # EventSource: reconnect after 1 s (browsers default to about 3 s)
STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx and similar proxies: do not buffer the stream
}


def frame(seq: int | None, data: str) -> bytes:
    """One SSE event: ``id:`` (when the event has one) and its JSON in one ``data:`` line."""
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}data: {data}\n\n".encode()


@dataclass
class EventStream:
    """A streamed response: status, headers and the SSE-encoded body, produced as it is sent."""

    body: AsyncIterator[bytes]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        """The SSE headers plus the stream's own."""
        return {**STREAM_HEADERS, **self.headers}


class StreamingHttpResponse(func.HttpResponse):
    """A ``func.HttpResponse`` whose body is produced while it is sent (Starlette's response shape)."""

    def __init__(self, stream: EventStream) -> None:
        """Send ``stream``; the body of the ``func.HttpResponse`` itself stays empty."""
        headers = stream.all_headers()
        super().__init__(b"", status_code=stream.status, headers=headers)
        self.body_iterator = stream.body
        self.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def buffered(stream: EventStream) -> func.HttpResponse:
    """The whole stream as one response (for hosts that cannot stream)."""
    chunks = [chunk async for chunk in stream.body]
    headers = stream.all_headers()
    return func.HttpResponse(b"".join(chunks), status_code=stream.status, headers=headers)


async def respond(stream: EventStream, live: bool) -> func.HttpResponse:
    """The response object for ``stream``: streamed when the host can (``live``), else buffered."""
    return StreamingHttpResponse(stream) if live else await buffered(stream)
