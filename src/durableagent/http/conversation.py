"""``GET`` (read) and ``DELETE`` (reset) of ``/agents/{agentName}/{sessionId}``.

Reads are committed state only: the record through the entity client, the turns it counts from
the transcript store (turns a crashed attempt wrote beyond the committed count are never shown).
A reset is the entity's ``reset`` operation; the route waits until the entity is gone (or reborn
with a new incarnation) so that a following GET cannot see the old conversation.

Bounded reads: a GET without ``limit`` returns at most ``DEFAULT_PAGE_TURNS`` turns (the newest), so
neither the body nor the memory it takes grows with the conversation; a session with no more turns
than that gets its whole history, in the 0.0.2b1 shape. An older page is named by ``next_before``
and by a ``Link: <...>; rel="next"`` header (RFC 8288), a relative reference (no ``Host`` in it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

import azure.functions as func
from durableagent_models import ResetResult

from durableagent.contract.problems import (
    PreconditionFailed,
    SessionNotFound,
    StoreUnavailable,
    UpstreamTimeout,
)
from durableagent.contract.validate import ValidatedRequest
from durableagent.conversation.base import SessionRef, StoreUnavailableError
from durableagent.entity.legacy import legacy_conversation
from durableagent.entity.loop import run_async
from durableagent.entity.record import record_of
from durableagent.entity.turn_io import reply_text
from durableagent.entity.view import conversation
from durableagent.entity_client import EntityClient, State
from durableagent.http.edge import RouteContext, serve
from durableagent.http.replies import Reply, json_response

TEMPLATE = "agents/{agentName}/{sessionId}"
_NOT_FOUND = "No conversation with this session id exists for this agent."
DEFAULT_PAGE_TURNS = 100  # turns per page when the request names no `limit`


def page_bounds(turns: int, limit: int | None, before: int | None) -> tuple[int, int, int | None]:
    """``(first, last, next_before)`` of the requested page of turns (1-based, inclusive)."""
    size = limit if limit is not None else DEFAULT_PAGE_TURNS
    last = min(turns, before - 1) if before is not None else turns
    first = max(1, last - size + 1)
    next_before = first if first > 1 else None
    return first, last, next_before


def next_link(url: str, limit: int | None, next_before: int) -> str:
    """The ``Link`` header value of the next (older) page, relative to the server's root."""
    size = limit if limit is not None else DEFAULT_PAGE_TURNS
    return f'<{quote(urlsplit(url).path)}?limit={size}&before={next_before}>; rel="next"'


def conversation_function(ctx: RouteContext) -> Callable[..., Awaitable[Reply]]:
    """The ``agent_session`` HTTP function (GET reads, DELETE resets) of the app described by ``ctx``."""

    async def agent_session(req: func.HttpRequest, client: str, context: func.Context) -> Reply:
        async def dispatch(v: ValidatedRequest) -> Reply:
            entities = ctx.entities(client, context.invocation_id)
            if v.operation_id == "resetConversation":
                return await _reset(ctx, entities, v)
            return await _read(ctx, entities, v, req.url)

        return await serve(req, TEMPLATE, dispatch, context, methods=frozenset({"GET", "DELETE"}))

    return agent_session


async def _read(ctx: RouteContext, entities: EntityClient, v: ValidatedRequest, url: str) -> Reply:
    registration = ctx.agent(v)
    session = str(v.path["sessionId"])
    state = await entities.read(registration.name, session)
    if state is None:
        raise SessionNotFound(_NOT_FOUND)
    record = record_of(state)
    if record is None:  # 0.0.2b1 state, not yet migrated by the entity: render it as it is
        return json_response(legacy_conversation(state, agent_type=registration.agent_type, session=session))
    limit = v.query.get("limit")
    first, last, next_before = page_bounds(record.turns, limit, v.query.get("before"))
    records, last_response = [], record.last_response
    ref = SessionRef(registration.name, session, record.incarnation)
    try:
        if last >= first:
            records = await run_async(ctx.store().load_turns(ref, first, last))
        if last_response is None and record.turns:  # too long to keep in the state: the last turn's
            newest = records[-1] if records and records[-1].turn == record.turns else None
            newest = newest or await run_async(ctx.store().get_turn(ref, record.turns))
            last_response = reply_text(newest) if newest is not None and newest.error is None else None
    except StoreUnavailableError:
        raise StoreUnavailable("The conversation store is temporarily unavailable.", retry_after=5) from None
    body = conversation(
        records,
        turns=record.turns,
        last_response=last_response,
        agent_type=registration.agent_type,
        session=session,
        next_before=next_before,
    )
    headers = {"ETag": record.etag}
    if next_before is not None:
        headers["Link"] = next_link(url, limit, next_before)
    return json_response(body, headers=headers)


async def _reset(ctx: RouteContext, entities: EntityClient, v: ValidatedRequest) -> Reply:
    agent = ctx.agent(v).name
    session = str(v.path["sessionId"])
    with entities.watch(agent, session) as watch:
        state = await entities.read(agent, session)
        if state is None:
            raise SessionNotFound(_NOT_FOUND)
        record = record_of(state)
        if_match = v.headers.get("if-match")
        if if_match is not None and (record is None or if_match != record.etag):
            raise PreconditionFailed("If-Match does not match the session's current ETag; read it again.")
        before = record.incarnation if record is not None else None

        def gone(s: State) -> bool | None:
            return True if s is None or s.get("incarnation") != before else None

        await entities.signal(agent, session, "reset", None)
        done = await watch.until(gone, ctx.options.wait_timeout or 30.0)
    if done is None:
        raise UpstreamTimeout(
            "The reset is queued behind running turns and did not finish in time; it will still be applied."
        )
    return json_response(ResetResult(status="reset", sessionId=session))
