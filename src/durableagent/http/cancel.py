"""``POST /agents/{agentName}/{sessionId}/turns/{correlationId}/cancel``: stop a queued or running turn.

The cancel is a durable ``cancel`` mark on the request (``conversation/store_protocol.py``), delivered at
once to the turn when it runs in this process (``entity/loop.py``). A queued turn reads the mark
when it reaches the entity and is recorded as cancelled without running; a running one stops at its
next safe point. A turn still queued once the mark is durable answers ``200 cancelled`` at once (it
reads the mark after marking itself running, so it cannot slip through). Otherwise the route waits,
up to the app's wait cap, for the turn's final ledger entry: ``200 cancelled``, ``409 turn-finished``
with the outcome when the turn finished first, or ``202 cancelling`` with the turn's ``Location``.
Cancelling again answers the same (idempotent).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import azure.functions as func
from durableagent_models import CorrelationId, SessionId, TurnCancel

from durableagent.contract.problems import TurnNotFound
from durableagent.contract.turn_problems import TurnDiscarded, TurnFinished
from durableagent.contract.validate import ValidatedRequest
from durableagent.conversation.base import control_of
from durableagent.entity.loop import deliver, run_async
from durableagent.entity.record import LedgerEntry, record_of
from durableagent.entity_client import State
from durableagent.http.edge import RouteContext, serve
from durableagent.http.replies import Reply, json_response, turn_location
from durableagent.http.turn_lookup import view_request

TEMPLATE = "agents/{agentName}/{sessionId}/turns/{correlationId}/cancel"
CANCELLED_SLUG = "turn-cancelled"


def was_cancelled(entry: LedgerEntry) -> bool:
    """Whether a final ledger entry records a cancelled turn."""
    return entry.problem is not None and str(entry.problem.get("type", "")).endswith("/" + CANCELLED_SLUG)


async def request_cancel(ctx: RouteContext, agent: str, session: str, request_id: str) -> bool:
    """Mark the request cancelled (durably) and stop it if it runs here; False if the store has no marks."""
    control = control_of(ctx.store())
    if control is None:
        return False
    await run_async(control.set_mark(agent, session, request_id, "cancel"))
    deliver(agent, session, request_id)
    return True


def cancel_function(ctx: RouteContext) -> Callable[..., Awaitable[Reply]]:
    """The ``agent_turn_cancel`` HTTP function of the app described by ``ctx``."""

    async def agent_turn_cancel(req: func.HttpRequest, client: str, context: func.Context) -> Reply:
        async def cancel(v: ValidatedRequest) -> Reply:
            return await _cancel(ctx, req, client, context, v)

        return await serve(req, TEMPLATE, cancel, context, methods=frozenset({"POST"}))

    return agent_turn_cancel


def _final(state: State, request_id: str) -> LedgerEntry | None:
    record = record_of(state)
    entry = record.entry(request_id) if record is not None else None
    return entry if entry is not None and not entry.retryable else None


def _finished(entry: LedgerEntry) -> TurnFinished:
    return TurnFinished(
        "The turn finished before it could be cancelled; its Location has its result.", outcome=entry.status
    )


async def _cancel(
    ctx: RouteContext, req: func.HttpRequest, binding: str, context: func.Context, v: ValidatedRequest
) -> Reply:
    agent = ctx.agent(v).name
    session = str(v.path["sessionId"])
    request_id = str(v.path["correlationId"])
    location = turn_location(req.url, agent, session, request_id, TEMPLATE)
    body = TurnCancel(
        status="cancelled",
        sessionId=SessionId(session),
        correlationId=CorrelationId(request_id),
        location=location,
    )
    entities = ctx.entities(binding, context.invocation_id)
    with entities.watch(agent, session) as watch:
        view = await view_request(ctx, entities, agent, session, request_id)
        if view.answer is not None and not view.answer[0].retryable:
            if was_cancelled(view.answer[0]):
                return json_response(body, 200)
            raise _finished(view.answer[0])
        if view.mark == "discarded":
            raise TurnDiscarded("The session was reset after this turn was accepted; the turn was discarded.")
        if view.progress is None and view.mark is None:
            raise TurnNotFound(
                "No queued or running turn with this correlation id is known for this session."
            )
        if not await request_cancel(ctx, agent, session, request_id):
            raise TurnNotFound("This app's conversation store cannot cancel turns.")
        # Still queued after the mark is durable: the turn reads the mark once it is running
        # (entity/turn.py), so it never runs. Its waiters get turn-cancelled when it is recorded.
        if await run_async(ctx.store().request_state(agent, session, request_id)) == "accepted":
            return json_response(body, 200)
        entry = await watch.until(lambda s: _final(s, request_id), ctx.options.wait_timeout)
    if entry is None:
        await entities.flush()
        pending = body.model_copy(update={"status": "cancelling"})
        return json_response(pending, 202, {"Location": location, "Retry-After": "1"})
    if not was_cancelled(entry):
        raise _finished(entry)
    return json_response(body, 200)
