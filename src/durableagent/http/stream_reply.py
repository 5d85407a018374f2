"""The one seam for a streamed reply: what a route handler returns instead of a whole body.

Why: a streamed turn (Server-Sent Events) is produced once, by the route, as an async iterator of
already-encoded bytes plus the status and headers; how it leaves the process depends on the app's
HTTP model and is decided in one place each:

* ``AgentFunctionApp(http_streaming=True)`` (the Azure Functions HTTP streams extension, FastAPI
  types): ``http/fastapi_mode.py`` wraps it in a ``StreamingResponse``; the Functions host (or
  durableagent's local host) sends every chunk as it is yielded.
* classic ``func.HttpRequest``/``func.HttpResponse`` functions on a host that streams
  (durableagent's local host): :class:`StreamingHttpResponse`, which has the shape of Starlette's
  ``StreamingResponse`` (``status_code``, ``raw_headers``, ``body_iterator``); the local host sends
  any such object chunk by chunk (``local/http_io.py``).
* classic functions on the plain Python worker, which can only send a whole body: :func:`buffered`
  drains the iterator into one ``func.HttpResponse`` (the same bytes, all at once, at the end).

A handler's result type is :data:`Reply`. Nothing here imports FastAPI.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import azure.functions as func

SSE_MEDIA_TYPE = "text/event-stream"


@dataclass(frozen=True)
class StreamReply:
    """A reply whose body is produced while it is sent.

    Attributes:
        chunks: the body, as bytes ready for the wire (for SSE: whole ``id:/event:/data:`` blocks,
            each ending in a blank line). It is iterated once; closing it (``aclose``) is how a
            client that went away is noticed.
        status: the HTTP status (sent before the first chunk, so it cannot depend on later ones).
        headers: extra response headers (``Cache-Control``, ``X-Accel-Buffering``...); not
            ``Content-Length``, which a stream cannot know.
        media_type: the ``Content-Type`` (``text/event-stream`` by default).
    """

    chunks: AsyncIterator[bytes]
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = SSE_MEDIA_TYPE


Reply = func.HttpResponse | StreamReply
"""What a route handler returns: a whole response, or a stream."""


async def buffered(reply: StreamReply) -> func.HttpResponse:
    """The whole stream as one ``func.HttpResponse`` (the classic model cannot send it in pieces)."""
    parts = [chunk async for chunk in reply.chunks]
    headers = {k: v for k, v in reply.headers.items() if k.lower() not in ("content-length", "content-type")}
    return func.HttpResponse(
        b"".join(parts), status_code=reply.status, headers=headers, mimetype=reply.media_type
    )


class StreamingHttpResponse(func.HttpResponse):
    """A ``func.HttpResponse`` whose body is produced while it is sent (Starlette's response shape)."""

    def __init__(self, reply: StreamReply) -> None:
        """Send ``reply``; the body of the ``func.HttpResponse`` itself stays empty."""
        headers = {**reply.headers, "Content-Type": reply.media_type}
        super().__init__(b"", status_code=reply.status, headers=headers)
        self.body_iterator = reply.chunks
        self.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def classic_function(
    handler: Callable[..., Awaitable[Reply]], live: Callable[[], bool]
) -> Callable[..., Awaitable[func.HttpResponse]]:
    """``handler`` as a classic HTTP function.

    A :class:`StreamReply` becomes a :class:`StreamingHttpResponse` when the host streams
    (``live()``), else it is sent whole (:func:`buffered`). ``functools.wraps`` keeps the signature
    and annotations the worker inspects (bindings by parameter name, ``context``).
    """

    @functools.wraps(handler)
    async def whole(*args: object, **kwargs: object) -> func.HttpResponse:
        reply = await handler(*args, **kwargs)
        if not isinstance(reply, StreamReply):
            return reply
        return StreamingHttpResponse(reply) if live() else await buffered(reply)

    return whole
