"""``GET /agents/{agentName}/{sessionId}/turns/{correlationId}``: the result behind a 202's Location.

200 with the turn's result once committed, the turn's own problem when it failed, 202 while the
request is accepted or running (the conversation store's request ledger knows), 404 otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import azure.functions as func

from durableagent.contract.problems import TurnNotFound
from durableagent.contract.validate import ValidatedRequest
from durableagent.entity.loop import run_async
from durableagent.entity.record import record_of
from durableagent.entity.turn_io import RunOperation
from durableagent.http.edge import RouteContext, serve
from durableagent.http.run import TURN_TEMPLATE, accepted, answer_response
from durableagent.http.stream_reply import Reply


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
    record = record_of(await ctx.entities(binding, context.invocation_id).read(agent, session))
    entry = record.entry(correlation_id) if record is not None else None
    if record is not None and entry is not None:
        return await answer_response(ctx, (entry, record), correlation_id, False, urlsplit(req.url).path)
    progress = await run_async(ctx.store().request_state(agent, session, correlation_id))
    if progress is None:
        raise TurnNotFound("No turn with this correlation id is known for this session.")
    placeholder = RunOperation(correlation_id=correlation_id, message="")
    return accepted(req.url, TURN_TEMPLATE, agent, session, placeholder, False, None, progress)
