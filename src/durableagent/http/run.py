"""``POST /agents/{agentName}/run``: the start of a turn's path.

Read the path in this order:

1. ``http/run.py`` (here): the HTTP trigger; ``edge.serve`` validates the request against
   openapi.yaml (``contract/validate.py``; strict JSON, bounds and the generated ``RunRequest`` in
   ``contract/request_body.py``) and this module turns it into a ``RunOperation``
   (``entity/turn_io.py``) for the session's entity;
2. ``entity_client.py``: the request is admitted (:func:`admit_and_signal`), its operation
   signalled to the entity ``@agent@session`` and the route watches its commits (in-process on the
   local host, polling on Azure);
3. ``entity/session.py`` -> ``entity/turn.py`` -> ``entity/agent_call.py`` + ``entity/history.py``:
   the entity function runs the turn on the agent loop (``entity/loop.py``), writes it to the
   transcript (``conversation/``) and returns the new ``SessionRecord`` (``entity/record.py``);
4. back here: the committed ledger entry answers (``http/replies.py``): 200 with the reply, the
   turn's own problem, or 202 + ``Location`` when the wait ends first.

docs/architecture.md draws the same path with the threads and loops it crosses.

Session ids come from the body (``sessionId``, ``sessionKey``, ``session_id``, ``thread_id``) or the
query string (same names); values that disagree are a 400. Waiting: ``edge.wait_preference``. The
reply is text when the request was text and ``Accept`` does not ask for JSON; ``Accept:
text/event-stream`` streams the turn (:func:`start_streamed_turn`, also used by ``POST .../ag-ui``).

Double-texting (``multitask_strategy``), for JSON and streamed runs alike: ``enqueue`` (default)
waits behind the session's queued and running turns; ``reject`` answers ``409 session-busy`` with
``Retry-After`` while another turn is queued or running; ``interrupt`` cancels every older queued or
running turn (``cancel.request_cancel``), then runs. Every request first gets its row in the store's
request ledger (``TurnControl.register_request``), before its signal, so turns that wait
synchronously are visible too. Busy means: a row *older* than this request's own, for a request the
entity has not answered yet, so concurrent requests agree: of 20 simultaneous ``reject`` requests
the oldest runs, of 20 ``interrupt`` requests the newest survives. A retry of an accepted request
(same ``Idempotency-Key``) already has its row: it is never refused as busy and interrupts nothing.
Limit: a host crash between a request's row and its signal leaves a row no turn will end; the
session then looks busy to ``reject`` until it is reset.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import azure.functions as func
from durableagent_models import RunRequest
from pydantic import MISSING

from durableagent.contract.problems import (
    ConflictingSessionIds,
    IdempotencyKeyReused,
    InvalidRequest,
    NotAcceptable,
    PreconditionFailed,
    RoleNotAllowed,
)
from durableagent.contract.turn_problems import SessionBusy
from durableagent.contract.validate import ValidatedRequest
from durableagent.conversation.base import control_of
from durableagent.conversation.stream_base import StreamKey
from durableagent.entity.loop import run_async
from durableagent.entity.record import record_of
from durableagent.entity.turn_io import RunOperation, new_correlation_id
from durableagent.entity_client import EntityClient, State
from durableagent.http.cancel import request_cancel
from durableagent.http.edge import RouteContext, accepts, names_media, serve, wait_preference
from durableagent.http.replies import Answer, Reply, accepted, answer_response
from durableagent.http.sse import SSE_MEDIA_TYPE
from durableagent.http.stream import last_event_id, open_stream, reply_reader, stream_url
from durableagent.session_id import new_session_key

TEMPLATE = "agents/{agentName}/run"
TURN_TEMPLATE = "agents/{agentName}/{sessionId}/turns/{correlationId}"
SESSION_FIELDS = ("sessionId", "sessionKey", "session_id", "thread_id")
RUN_MEDIA = (SSE_MEDIA_TYPE, "application/json", "text/plain")
Strategy = Literal["enqueue", "reject", "interrupt"]
STRATEGIES: tuple[Strategy, ...] = ("enqueue", "reject", "interrupt")


def answer_of(state: State, op: RunOperation) -> Answer | None:
    """The final answer of ``op`` in the session's state, or None while it has none.

    Raises:
        IdempotencyKeyReused: the state answers this correlation id for a different request.
    """
    record = record_of(state)
    entry = record.entry(op.correlation_id) if record is not None else None
    if record is None or entry is None:
        return None
    verdict = entry.verdict(op.fingerprint, op.nonce)
    if verdict == "mismatch":
        raise IdempotencyKeyReused(
            "This request id (Idempotency-Key, AG-UI runId) was already used with a different request."
        )
    return (entry, record) if verdict == "final" else None


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


def strategy_of(body_value: Any, query: Mapping[str, Any]) -> Strategy:
    """The body's ``multitask_strategy``, else the query parameter's (``text/plain``), else ``enqueue``."""
    value = getattr(body_value, "root", body_value)
    if value is None or value is MISSING:
        value = query.get("multitask_strategy") or "enqueue"
    if value not in STRATEGIES:
        raise InvalidRequest("multitask_strategy must be one of enqueue, reject, interrupt.")
    return cast(Strategy, value)


async def admit_and_signal(
    ctx: RouteContext,
    entities: EntityClient,
    agent: str,
    session: str,
    op_input: dict[str, Any],
    strategy: Strategy,
) -> None:
    """Register the request, apply ``strategy``, and signal its ``run_agent`` operation.

    A signal that fails (``429`` from a full queue, a store error) takes the request's new row
    back, so it never makes the session look busy.

    Raises:
        SessionBusy: ``reject`` while an older request of the session is unanswered.
    """
    request_id = str(op_input["correlationId"])
    control = control_of(ctx.store())
    new = control is not None and await run_async(control.register_request(agent, session, request_id))
    if new:
        await _apply(ctx, entities, agent, session, request_id, strategy)
    try:
        await entities.signal(agent, session, "run_agent", op_input)
    except BaseException:
        if new:
            await run_async(ctx.store().forget_request(agent, session, request_id))
        raise


async def _apply(
    ctx: RouteContext, entities: EntityClient, agent: str, session: str, request_id: str, strategy: Strategy
) -> None:
    store = ctx.store()
    control = control_of(store)
    if strategy == "enqueue" or control is None:
        return
    ids = await run_async(control.request_ids(agent, session))
    older = ids[: ids.index(request_id)] if request_id in ids else ids
    if not older:
        return
    record = record_of(await entities.read(agent, session))
    answered = record.requests if record is not None else {}  # any entry: its attempt has ended
    pending = [rid for rid in older if rid not in answered]
    if not pending:
        return
    if strategy == "reject":
        await run_async(store.forget_request(agent, session, request_id))
        raise SessionBusy("Another turn of this session is queued or running; retry later.", retry_after=1)
    for rid in pending:
        await request_cancel(ctx, agent, session, rid)


def _check_if_match(state: State, op: RunOperation) -> None:
    if op.if_match is not None and op.if_match != getattr(record_of(state), "etag", None):
        raise PreconditionFailed("If-Match does not match the session's current ETag; read it again.")


async def start_streamed_turn(
    ctx: RouteContext,
    req: func.HttpRequest,
    entities: EntityClient,
    key: StreamKey,
    op: RunOperation,
    strategy: Strategy,
    template: str,
) -> Reply:
    """Admit and signal ``op`` (unless the ledger answers it already) and stream its turn from the start."""
    after = last_event_id(req.headers, {})
    state = await entities.read(key.agent, key.session)
    _check_if_match(state, op)
    if answer_of(state, op) is None:
        await admit_and_signal(ctx, entities, key.agent, key.session, op.to_input(), strategy)
        await entities.flush()
        await run_async(ctx.store().mark_accepted(key.agent, key.session, op.correlation_id))
    headers = {
        "x-ms-session-id": key.session,
        "x-ms-correlation-id": op.correlation_id,
        "Location": stream_url(req.url, template, key.agent, key.session, op.correlation_id),
    }
    answer = functools.partial(answer_of, op=op)
    return await open_stream(ctx, entities, key, after, answer, reply_reader(ctx), headers)


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


def _operation(
    v: ValidatedRequest, request: RunRequest | None, role: str, accept: str | None
) -> RunOperation:
    schema: Any = None
    if request is not None:
        given = [m.root for m in (request.response_schema, request.response_format) if m is not MISSING]
        if len(given) == 2 and given[0] != given[1]:
            raise InvalidRequest("response_schema and response_format disagree; send one of them.")
        schema = given[0] if given else None
    return RunOperation(
        correlation_id=v.headers.get("idempotency-key") or new_correlation_id(),
        message=str(v.body) if request is None else request.message,
        role=role,
        enable_tool_calls=request.enable_tool_calls if request is not None else True,
        response_schema=schema,
        if_match=v.headers.get("if-match"),
        stream=names_media(accept, SSE_MEDIA_TYPE),
    )


async def _run(
    ctx: RouteContext, req: func.HttpRequest, binding: str, context: func.Context, v: ValidatedRequest
) -> Reply:
    registration = ctx.agent(v)
    accept = req.headers.get("accept")
    if not accepts(accept, *RUN_MEDIA):
        raise NotAcceptable("This route answers application/json, text/plain or text/event-stream.")
    agent = registration.name
    request = v.model if isinstance(v.model, RunRequest) else None
    session = resolve_session(request, v.query) or new_session_key()
    role = request.role if request is not None else "user"
    if role not in registration.allowed_roles:
        raise RoleNotAllowed(f"This app does not accept messages with role '{role}'.")
    body_wait = request.wait_for_response if request is not None else None
    preference = wait_preference(v.headers, v.query, body_wait, ctx.options.wait_timeout)
    strategy = strategy_of(request.multitask_strategy if request is not None else None, v.query)
    op = _operation(v, request, role, accept)
    entities = ctx.entities(binding, context.invocation_id)
    if op.stream:
        key = StreamKey(agent, session, op.correlation_id)
        return await start_streamed_turn(ctx, req, entities, key, op, strategy, TEMPLATE)
    text_out = v.media_type == "text/plain" and "json" not in (accept or "").lower()
    instance = urlsplit(req.url).path
    with entities.watch(agent, session) as watch:
        if "idempotency-key" in v.headers or op.if_match is not None:
            state = await entities.read(agent, session)
            _check_if_match(state, op)
            early = answer_of(state, op)
            if early is not None:
                return await answer_response(ctx.store(), early, op.correlation_id, text_out, instance)
        await admit_and_signal(ctx, entities, agent, session, op.to_input(), strategy)
        found = await watch.until(lambda s: answer_of(s, op), preference.seconds)
    if found is not None:
        return await answer_response(ctx.store(), found, op.correlation_id, text_out, instance)
    await entities.flush()
    await run_async(ctx.store().mark_accepted(agent, session, op.correlation_id))
    return accepted(req.url, TEMPLATE, agent, session, op, text_out, preference.applied, "accepted")
