"""``POST /agents/{agentName}/run``: the start of a turn's path.

Read the path in this order:

1. ``http/run.py`` (here): the HTTP trigger; ``edge.serve`` validates the request against
   openapi.yaml (``contract/validate.py``, strict JSON in ``contract/jsonbody.py``) and this module
   turns it into a ``RunOperation`` (``entity/operation.py``) for the session's entity;
2. ``entity_client.py``: the operation is signalled to the entity ``@agent@session`` and the route
   watches its commits (in-process on the local host, polling on Azure);
3. ``entity/session.py`` -> ``entity/turn.py`` -> ``entity/agent_call.py`` + ``entity/history.py``:
   the entity function runs the turn on the agent loop (``entity/loop.py``), writes it to the
   transcript (``conversation/``) and returns the new ``SessionRecord`` (``entity/record.py``);
4. back here: the committed ledger entry answers: 200 with the reply (``entity/replies.py``), the
   turn's own problem, or 202 + ``Location`` when the wait ends first.

docs/architecture.md draws the same path with the threads and loops it crosses.

Session ids come from the body (``sessionId``, ``sessionKey``, ``session_id``, ``thread_id``) or the
query string (same names); values that disagree are a 400. Waiting follows, in order of
precedence: the ``x-ms-wait-for-response`` header, the ``wait_for_response`` query parameter, the
body's ``wait_for_response``, then ``Prefer`` (RFC 7240: ``respond-async``, ``wait=N``), then the
app's wait cap. The reply is text when the request was text and ``Accept`` does not ask for JSON.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func
from durableagent_models import CorrelationId, RunAccepted, RunRequest, RunResult, SessionId
from pydantic import MISSING

from durableagent.contract.problems import (
    ConflictingSessionIds,
    IdempotencyKeyReused,
    InvalidRequest,
    PreconditionFailed,
    RoleNotAllowed,
    StoreUnavailable,
)
from durableagent.contract.validate import ValidatedRequest
from durableagent.conversation.base import SessionRef, StoreUnavailableError
from durableagent.entity.loop import run_async
from durableagent.entity.record import LedgerEntry, SessionRecord, record_of
from durableagent.entity.turn_io import RunOperation, new_correlation_id, run_result
from durableagent.entity_client import State
from durableagent.http.edge import (
    RouteContext,
    json_response,
    problem_response,
    route_prefix_of,
    serve,
    text_response,
)
from durableagent.http.stream import require_run_media, start_streamed_turn, wants_event_stream
from durableagent.http.stream_reply import Reply
from durableagent.http.waiting import wait_preference
from durableagent.session_id import new_session_key

TEMPLATE = "agents/{agentName}/run"
TURN_TEMPLATE = "agents/{agentName}/{sessionId}/turns/{correlationId}"
SESSION_FIELDS = ("sessionId", "sessionKey", "session_id", "thread_id")
Answer = tuple[LedgerEntry, SessionRecord]


def resolve_session(request: RunRequest | None, query: Mapping[str, Any]) -> str | None:
    """The one session id the request names, or None.

    Raises:
        ConflictingSessionIds: the aliases disagree.
    """
    named: list[Any] = [getattr(request, name) for name in SESSION_FIELDS] if request is not None else []
    named.extend(query.get(name) for name in SESSION_FIELDS)
    values = {str(getattr(v, "root", v)).strip() for v in named if v is not None and v is not MISSING}
    values.discard("")
    if len(values) > 1:
        raise ConflictingSessionIds(
            "The request names more than one session (sessionId, sessionKey, session_id, thread_id disagree)."
        )
    return values.pop() if values else None


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


async def stored_reply(ctx: RouteContext, entry: LedgerEntry, record: SessionRecord) -> RunResult:
    """The 200 body of a finished turn: kept in the ledger's outbox, else rebuilt from the transcript."""
    if entry.reply is not None:
        return entry.reply
    if entry.turn is not None:
        ref = SessionRef(record.agent, record.session, record.incarnation)
        try:
            stored = await run_async(ctx.store().get_turn(ref, entry.turn))
        except StoreUnavailableError:
            stored = None
        if stored is not None:
            return run_result(stored, record.session, structured=stored.value is not None)
    raise StoreUnavailable("The turn's result is not available; retry shortly.", retry_after=1)


async def answer_response(
    ctx: RouteContext, found: Answer, correlation_id: str, text_out: bool, instance: str
) -> Reply:
    """The final answer of a request from its ledger entry: 200 with the reply, or its problem."""
    entry, record = found
    session = record.session
    headers = {"x-ms-session-id": session, "x-ms-correlation-id": correlation_id}
    if not entry.succeeded:
        problem = entry.problem_instance()
        return problem_response(problem, instance, correlationId=correlation_id, sessionId=session)
    reply = await stored_reply(ctx, entry, record)
    headers["ETag"] = record.etag
    if text_out:
        text = (
            reply.response
            if isinstance(reply.response, str)
            else json.dumps(reply.response, ensure_ascii=False)
        )
        return text_response(text, 200, headers)
    return json_response(reply, 200, headers)


def _answer(state: State, op: RunOperation) -> Answer | None:
    record = record_of(state)
    entry = record.entry(op.correlation_id) if record is not None else None
    if record is None or entry is None:
        return None
    verdict = entry.verdict(op.fingerprint, op.nonce)
    if verdict == "mismatch":
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return (entry, record) if verdict == "final" else None


def run_function(ctx: RouteContext) -> Callable[..., Awaitable[Reply]]:
    """The ``agent_run`` HTTP function of the app described by ``ctx``."""

    async def agent_run(req: func.HttpRequest, client: str, context: func.Context) -> Reply:
        async def run(v: ValidatedRequest) -> Reply:
            return await _run(ctx, req, client, context, v)

        return await serve(
            req,
            TEMPLATE,
            run,
            context,
            methods=frozenset({"POST"}),
            max_body_bytes=ctx.options.max_body_bytes,
        )

    return agent_run


async def _run(
    ctx: RouteContext, req: func.HttpRequest, binding: str, context: func.Context, v: ValidatedRequest
) -> Reply:
    registration = ctx.agent(v)
    require_run_media(req.headers.get("accept"))
    agent = registration.name
    text_in = v.media_type == "text/plain"
    request = v.model if isinstance(v.model, RunRequest) else None
    session = resolve_session(request, v.query) or new_session_key()
    schema: Any = None
    if request is not None:
        given = [m.root for m in (request.response_schema, request.response_format) if m is not MISSING]
        if len(given) == 2 and given[0] != given[1]:
            raise InvalidRequest("response_schema and response_format disagree; send one of them.")
        schema = given[0] if given else None
    role = request.role if request is not None else "user"
    if role not in registration.allowed_roles:
        raise RoleNotAllowed(f"This app does not accept messages with role '{role}'.")
    body_wait = (
        request.wait_for_response
        if request is not None and request.wait_for_response is not MISSING
        else None
    )
    preference = wait_preference(v.headers, v.query, body_wait, ctx.options.wait_timeout)
    op = RunOperation(
        correlation_id=v.headers.get("idempotency-key") or new_correlation_id(),
        message=str(v.body) if request is None else request.message,
        role=role,
        enable_tool_calls=request.enable_tool_calls if request is not None else True,
        response_schema=schema,
        if_match=v.headers.get("if-match"),
        stream=wants_event_stream(req.headers.get("accept")),
    )
    entities = ctx.entities(binding, context.invocation_id)
    if op.stream:
        answer_of = functools.partial(_answer, op=op)
        return await start_streamed_turn(ctx, req, entities, agent, session, op, answer_of, TEMPLATE)
    text_out = text_in and "json" not in (req.headers.get("accept") or "").lower()
    instance = urlsplit(req.url).path
    with entities.watch(agent, session) as watch:
        if "idempotency-key" in v.headers or op.if_match is not None:
            state = await entities.read(agent, session)
            if op.if_match is not None and op.if_match != getattr(record_of(state), "etag", None):
                raise PreconditionFailed("If-Match does not match the session's current ETag; read it again.")
            early = _answer(state, op)
            if early is not None:
                return await answer_response(ctx, early, op.correlation_id, text_out, instance)
        await entities.signal(agent, session, "run_agent", op.to_input())
        found = await watch.until(lambda s: _answer(s, op), preference.seconds)
    if found is not None:
        return await answer_response(ctx, found, op.correlation_id, text_out, instance)
    await entities.flush()
    await run_async(ctx.store().mark_accepted(agent, session, op.correlation_id))
    return accepted(req.url, TEMPLATE, agent, session, op, text_out, preference.applied, "accepted")
