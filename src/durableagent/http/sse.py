"""Server-Sent Events on the wire: frames and the stream's headers.

The routes wrap the frames in a ``stream_reply.StreamReply`` (the one seam a streamed reply goes
out through; how it leaves the process is decided by the app's HTTP model there).
"""

from __future__ import annotations

SSE_MEDIA_TYPE = "text/event-stream"
KEEPALIVE = b": keep-alive\n\n"
RETRY = b"retry: 1000\n\n"  # EventSource: reconnect after 1 s (browsers default to about 3 s)
SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"
STREAM_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx and similar proxies: do not buffer the stream
}


def frame(seq: int | None, data: str) -> bytes:
    """One SSE event: ``id:`` (when the event has one) and its JSON in one ``data:`` line."""
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}data: {data}\n\n".encode()
