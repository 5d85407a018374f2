"""``GET /agents/{agentName}/{sessionId}/turns/{correlationId}``: the result behind a 202's Location.

200 with the turn's result once committed, the turn's own problem when it failed (``409
turn-cancelled`` for a cancelled one), 202 while the request is accepted or running (the
conversation store's request ledger knows), 410 ``turn-discarded`` when a reset discarded it, 404
otherwise. A finished turn is found in the transcript once the entity's ledger forgot it
(``http/turn_lookup.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import azure.functions as func

from durableagent.contract.problems import TurnNotFound
from durableagent.contract.turn_problems import TurnDiscarded
from durableagent.contract.validate import ValidatedRequest
from durableagent.entity.turn_io import RunOperation
from durableagent.http.edge import RouteContext, serve
from durableagent.http.replies import Reply, accepted, answer_response
from durableagent.http.run import TURN_TEMPLATE
from durableagent.http.turn_lookup import view_request


def turn_function(ctx: RouteContext) -> Callable[..., Awaitable[Reply]]:
    """The ``agent_turn`` HTTP function of the app described by ``ctx``."""

    async def agent_turn(req: func.HttpRequest, client: str, context: func.Context) -> Reply:
        async def turn(v: ValidatedRequest) -> Reply:
            return await _turn(ctx, req, client, context, v)

        return await serve(req, TURN_TEMPLATE, turn, context)

    return agent_turn


async def _turn(
    ctx: RouteContext, req: func.HttpRequest, binding: str, context: func.Context, v: ValidatedRequest
) -> Reply:
    agent = ctx.agent(v).name
    session = str(v.path["sessionId"])
    correlation_id = str(v.path["correlationId"])
    view = await view_request(
        ctx, ctx.entities(binding, context.invocation_id), agent, session, correlation_id
    )
    if view.answer is not None:
        return await answer_response(ctx.store(), view.answer, correlation_id, False, urlsplit(req.url).path)
    if view.mark == "discarded":
        raise TurnDiscarded("The session was reset after this turn was accepted; the turn was discarded.")
    if view.progress is None:
        raise TurnNotFound("No turn with this correlation id is known for this session.")
    placeholder = RunOperation(correlation_id=correlation_id, message="")
    return accepted(req.url, TURN_TEMPLATE, agent, session, placeholder, False, None, view.progress)
