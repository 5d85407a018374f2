"""Streamed turns: ``GET .../turns/{correlationId}/stream`` and the start of a streamed ``POST``.

``POST /agents/{name}/run`` with ``Accept: text/event-stream`` and ``POST /agents/{name}/ag-ui``
(``http/run.start_streamed_turn``) signal the turn with ``stream: true`` (the entity then writes
its events to the stream log, see ``entity/turn_stream``) and answer with :func:`open_stream`.
``GET .../stream`` attaches to a queued, running or finished turn. All three resume after
``Last-Event-ID`` (header) or ``lastEventId`` (query, for ``EventSource`` reconnects that cannot
set headers): a malformed one is a 400, an ``Accept`` without ``text/event-stream`` (nor ``*/*``,
``text/*``) a 406, an unknown turn a 404.
A client that goes away does not cancel the turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import azure.functions as func

from durableagent.contract.problems import InvalidLastEventId, NotAcceptable, TurnNotFound
from durableagent.contract.validate import ValidatedRequest
from durableagent.conversation.stream_base import StreamKey
from durableagent.conversation.streams import stream_log_of
from durableagent.entity.loop import run_async
from durableagent.entity.record import record_of
from durableagent.entity_client import EntityClient, State
from durableagent.http.edge import RouteContext, accepts, serve
from durableagent.http.replies import Answer, Reply, StreamReply, stored_reply, turn_location
from durableagent.http.sse import SSE_CONTENT_TYPE, SSE_MEDIA_TYPE, STREAM_HEADERS
from durableagent.http.stream_tail import Tail, frames

TEMPLATE = "agents/{agentName}/{sessionId}/turns/{correlationId}/stream"
SETTLE_SECONDS = 30.0  # longest wait for the commit of a turn whose log has ended
_EVENT_ID = re.compile(r"[0-9]{1,15}")
AnswerOf = Callable[[State], Answer | None]
ReplyOf = Callable[[Answer], Awaitable[dict[str, object]]]


def last_event_id(headers: Mapping[str, str], query: Mapping[str, Any]) -> int:
    """The event the client saw last (0: none); the header wins over the query parameter.

    Raises:
        InvalidLastEventId: it is not a decimal event id.
    """
    value = headers.get("last-event-id")
    if value is None:
        value = query.get("lastEventId")
    if value is None or str(value).strip() == "":
        return 0
    text = str(value).strip()
    if _EVENT_ID.fullmatch(text) is None:
        raise InvalidLastEventId(
            "Last-Event-ID must be the id of an event of this stream (a decimal number)."
        )
    return int(text)


def require_event_stream(accept: str | None) -> None:
    """Raise :class:`NotAcceptable` unless ``Accept`` allows ``text/event-stream``."""
    if not accepts(accept, SSE_MEDIA_TYPE):
        raise NotAcceptable("This route answers text/event-stream only.")


def stream_url(url: str, template: str, agent: str, session: str, correlation_id: str) -> str:
    """The absolute URL of a turn's stream (the ``Location`` of a streamed response)."""
    return turn_location(url, agent, session, correlation_id, template) + "/stream"


async def open_stream(
    ctx: RouteContext,
    entities: EntityClient,
    key: StreamKey,
    after: int,
    answer_of: AnswerOf,
    reply_of: ReplyOf,
    headers: Mapping[str, str],
) -> Reply:
    """The streamed response of ``key``'s turn, from the event after ``after`` to its end."""

    async def probe() -> Answer | None:
        return answer_of(await entities.read(key.agent, key.session))

    async def settle() -> Answer | None:
        with entities.watch(key.agent, key.session) as watch:
            found = await probe()
            return found if found is not None else await watch.until(answer_of, SETTLE_SECONDS)

    tail = Tail(stream_log_of(ctx.store()), key, after, probe, reply_of, settle)
    return StreamReply(frames(tail), headers={**STREAM_HEADERS, **headers}, media_type=SSE_CONTENT_TYPE)


def reply_reader(ctx: RouteContext) -> ReplyOf:
    """How a stream gets a finished turn's 200 body (the ledger's outbox, else the transcript)."""
    async def reply_of(answer: Answer) -> dict[str, object]:
        entry, record = answer
        reply = await stored_reply(ctx.store(), entry, record)
        loaded: dict[str, object] = json.loads(reply.model_dump_json())
        return loaded

    return reply_of


def stream_function(ctx: RouteContext) -> Callable[..., Awaitable[Reply]]:
    """The ``agent_turn_stream`` HTTP function of the app described by ``ctx``."""

    async def agent_turn_stream(req: func.HttpRequest, client: str, context: func.Context) -> Reply:
        async def attach(v: ValidatedRequest) -> Reply:
            return await _attach(ctx, req, client, context, v)

        return await serve(req, TEMPLATE, attach, context)

    return agent_turn_stream


async def _attach(
    ctx: RouteContext, req: func.HttpRequest, binding: str, context: func.Context, v: ValidatedRequest
) -> Reply:
    require_event_stream(req.headers.get("accept"))
    after = last_event_id(v.headers, v.query)
    agent = ctx.agent(v).name
    session, correlation_id = str(v.path["sessionId"]), str(v.path["correlationId"])
    key = StreamKey(agent, session, correlation_id)
    entities = ctx.entities(binding, context.invocation_id)

    def answer_of(state: State) -> Answer | None:
        record = record_of(state)
        entry = record.entry(correlation_id) if record is not None else None
        return (entry, record) if record is not None and entry is not None else None

    if answer_of(await entities.read(agent, session)) is None:
        known = await run_async(ctx.store().request_state(agent, session, correlation_id))
        if known is None and await run_async(stream_log_of(ctx.store()).last(key)) is None:
            raise TurnNotFound("No turn with this correlation id is known for this session.")
    headers = {"x-ms-session-id": session, "x-ms-correlation-id": correlation_id}
    return await open_stream(ctx, entities, key, after, answer_of, reply_reader(ctx), headers)
