"""``GET /agents/{agentName}/{sessionId}/turns/{correlationId}``: the result behind a 202's Location.

200 with the turn's result once committed, the turn's own problem when it failed, 202 while the
request is accepted or running (the conversation store's request ledger knows), 404 otherwise.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import azure.durable_functions as df
import azure.functions as func

from durableagent.contract.problems import TurnNotFound, from_record
from durableagent.contract.validate import ValidatedRequest
from durableagent.entity.loop import run_async
from durableagent.entity.operation import RunOperation
from durableagent.http.edge import agent_name_of, serve
from durableagent.http.responses import json_response, problem_response
from durableagent.http.run import accepted
from durableagent.http.session_state import etag_of, record_of, reply_for
from durableagent.http.waiter import EntityWaiter


async def handle_turn(
    app: Any,
    req: func.HttpRequest,
    client: df.DurableOrchestrationClient,
    context: func.Context | None = None,
) -> func.HttpResponse:
    return await serve(req, 5, lambda v: _turn(app, client, req, v), context)


async def _turn(
    app: Any, client: df.DurableOrchestrationClient, req: func.HttpRequest, v: ValidatedRequest
) -> func.HttpResponse:
    agent = agent_name_of(app, v)
    session = str(v.path["sessionId"])
    correlation_id = str(v.path["correlationId"])
    with EntityWaiter(client, df.EntityId(agent, session)) as waiter:
        state = await waiter.read()
    record = record_of(state)
    entry = record.requests.get(correlation_id) if record is not None else None
    if entry is not None and state is not None:
        if entry.get("status") == 200:
            reply = await reply_for(app, agent, session, entry, state)
            return json_response(reply, headers={"ETag": etag_of(state) or "", "x-ms-session-id": session})
        problem = from_record(entry.get("problem") or {"status": entry.get("status", 500)})
        return problem_response(
            problem, urlsplit(req.url).path, correlationId=correlation_id, sessionId=session
        )
    progress = await run_async(app.stores.store().request_state(agent, session, correlation_id))
    if progress is None:
        raise TurnNotFound("No turn with this correlation id is known for this session.")
    placeholder = RunOperation(correlation_id=correlation_id, message="")
    return accepted(
        req.url,
        agent,
        session,
        placeholder,
        False,
        None,
        route_segments=5,
        status="running" if progress == "running" else "accepted",
    )
