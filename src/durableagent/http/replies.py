"""Every answer's way out: whole responses, problems, the answers of turns, and streams.

Whole responses (:func:`json_response` with a contract model as its body, :func:`text_response`,
:func:`problem_response` with the one problem renderer) and the answers of a turn that every route
shares: 200 with the reply or the turn's own problem (:func:`answer_response`, the reply from the
ledger's outbox or rebuilt from the transcript, :func:`stored_reply`) and 202 with the turn's
``Location`` (:func:`accepted`).

A streamed turn (Server-Sent Events) is produced once, by the route, as a :class:`StreamReply`: an
async iterator of already-encoded bytes plus the status and headers. How it leaves the process
depends on the app's HTTP model and is decided in one place each:

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
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
from durableagent_models import CorrelationId, RunAccepted, RunResult, SessionId
from pydantic import BaseModel

from durableagent.contract.problems import Problem, StoreUnavailable, render
from durableagent.conversation.base import SessionRef, StoreUnavailableError
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity.loop import run_async
from durableagent.entity.record import LedgerEntry, SessionRecord
from durableagent.entity.turn_io import RunOperation, run_result

Answer = tuple[LedgerEntry, SessionRecord]
"""A request's final ledger entry and the session record that holds it."""

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


def json_response(
    body: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None
) -> func.HttpResponse:
    """A JSON response with a contract model as its body."""
    return func.HttpResponse(
        body.model_dump_json().encode("utf-8"),
        status_code=status,
        headers=dict(headers or {}),
        mimetype="application/json",
        charset="utf-8",
    )


def text_response(
    text: str, status: int = 200, headers: Mapping[str, str] | None = None, mimetype: str = "text/plain"
) -> func.HttpResponse:
    """A text response (UTF-8)."""
    return func.HttpResponse(
        text.encode("utf-8"),
        status_code=status,
        headers=dict(headers or {}),
        mimetype=mimetype,
        charset="utf-8",
    )


def bytes_response(body: bytes, mimetype: str, headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    """A 200 response with a ready-made body."""
    return func.HttpResponse(body, status_code=200, headers=dict(headers or {}), mimetype=mimetype)


def problem_response(problem: Problem, instance: str | None = None, **extensions: Any) -> func.HttpResponse:
    """Render ``problem`` as application/problem+json (extension members added when valid)."""
    for key, value in extensions.items():
        if value is not None:
            problem.extensions.setdefault(key, value)
    status, headers, body = render(problem, instance)
    mimetype = headers.pop("Content-Type")
    return func.HttpResponse(body, status_code=status, headers=headers, mimetype=mimetype, charset="utf-8")


def route_prefix_of(url: str, template: str) -> str:
    """The host's route prefix: the request path minus the segments of the route's ``template``."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return "/".join(segments[: max(0, len(segments) - len(template.split("/")))])


def turn_location(url: str, agent: str, session: str, correlation_id: str, template: str) -> str:
    """The absolute URL of a turn's result (the ``Location`` of a 202)."""
    parts = urlsplit(url)
    prefix = route_prefix_of(url, template)
    base = f"{parts.scheme}://{parts.netloc}/" + (f"{prefix}/" if prefix else "")
    return f"{base}agents/{agent}/{session}/turns/{correlation_id}"


def accepted(
    url: str,
    template: str,
    agent: str,
    session: str,
    op: RunOperation,
    text_out: bool,
    applied: str | None,
    status: str,
) -> Reply:
    """202: the turn is queued (``accepted``) or ``running``; ``Location`` will have its result."""
    location = turn_location(url, agent, session, op.correlation_id, template)
    headers = {
        "Location": location,
        "Retry-After": "1",
        "x-ms-session-id": session,
        "x-ms-correlation-id": op.correlation_id,
    }
    if applied:
        headers["Preference-Applied"] = applied
    if text_out:
        return text_response("Agent request accepted", 202, headers)
    body = RunAccepted(
        response="Agent request accepted",
        message=op.message,
        sessionId=SessionId(session),
        session_id=SessionId(session),
        status="running" if status == "running" else "accepted",
        correlationId=CorrelationId(op.correlation_id),
        correlation_id=CorrelationId(op.correlation_id),
        location=location,
    )
    return json_response(body, 202, headers)


async def stored_reply(store: ConversationStore, entry: LedgerEntry, record: SessionRecord) -> RunResult:
    """The 200 body of a finished turn: kept in the ledger's outbox, else rebuilt from the transcript."""
    if entry.reply is not None:
        return entry.reply
    if entry.turn is not None:
        ref = SessionRef(record.agent, record.session, record.incarnation)
        try:
            stored = await run_async(store.get_turn(ref, entry.turn))
        except StoreUnavailableError:
            stored = None
        if stored is not None:
            return run_result(stored, record.session, structured=stored.value is not None)
    raise StoreUnavailable("The turn's result is not available; retry shortly.", retry_after=1)


async def answer_response(
    store: ConversationStore, found: Answer, correlation_id: str, text_out: bool, instance: str
) -> Reply:
    """The final answer of a request from its ledger entry: 200 with the reply, or its problem."""
    entry, record = found
    session = record.session
    headers = {"x-ms-session-id": session, "x-ms-correlation-id": correlation_id}
    if not entry.succeeded:
        problem = entry.problem_instance()
        return problem_response(problem, instance, correlationId=correlation_id, sessionId=session)
    reply = await stored_reply(store, entry, record)
    headers["ETag"] = record.etag
    if text_out:
        text = (
            reply.response
            if isinstance(reply.response, str)
            else json.dumps(reply.response, ensure_ascii=False)
        )
        return text_response(text, 200, headers)
    return json_response(reply, 200, headers)
