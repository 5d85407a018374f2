"""``POST /agents/{agentName}/run``: validate, signal the session's entity, wait for its answer.

The data path in one place: the request is validated against openapi.yaml (``edge.serve``), turned
into a ``RunOperation`` with a correlation id (the ``Idempotency-Key`` or a new one) and a
fingerprint, signalled to the entity ``@agent@session``, and answered from the committed ledger
entry: 200 with the reply, the turn's own problem, or 202 + ``Location`` when the wait ends first.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import azure.durable_functions as df
import azure.functions as func

from durableagent.contract.problems import (
    IdempotencyKeyReused,
    InvalidRequest,
    PreconditionFailed,
    RoleNotAllowed,
    from_record,
)
from durableagent.contract.validate import ValidatedRequest
from durableagent.entity.loop import run_async
from durableagent.entity.operation import RunOperation, new_correlation_id
from durableagent.entity.record import ledger_answer
from durableagent.http.edge import agent_name_of, route_prefix_of, serve
from durableagent.http.negotiation import resolve_session, wait_preference, wants_text
from durableagent.http.responses import json_response, problem_response, text_response
from durableagent.http.session_state import etag_of, record_of, reply_for
from durableagent.http.waiter import EntityWaiter
from durableagent.session_id import new_session_key

Found = tuple[dict[str, Any], dict[str, Any]]


def _answer(state: dict[str, Any] | None, op: RunOperation) -> Found | None:
    record = record_of(state)
    if record is None:
        return None
    entry = record.requests.get(op.correlation_id)
    verdict = ledger_answer(entry, op.fingerprint, op.nonce)
    if verdict == "mismatch":
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return (entry, state) if verdict == "final" and entry is not None and state is not None else None


def turn_location(url: str, agent: str, session: str, correlation_id: str, route_segments: int) -> str:
    """The absolute URL of a turn's result (the ``Location`` of a 202)."""
    parts = urlsplit(url)
    prefix = route_prefix_of(url, route_segments)
    base = f"{parts.scheme}://{parts.netloc}/" + (f"{prefix}/" if prefix else "")
    return f"{base}agents/{agent}/{session}/turns/{correlation_id}"


async def handle_run(
    app: Any,
    req: func.HttpRequest,
    client: df.DurableOrchestrationClient,
    context: func.Context | None = None,
) -> func.HttpResponse:
    return await serve(
        req, 3, lambda v: _run(app, client, req, v), context, frozenset({"POST"}), app.options.max_body_bytes
    )


async def _run(
    app: Any, client: df.DurableOrchestrationClient, req: func.HttpRequest, v: ValidatedRequest
) -> func.HttpResponse:
    agent = agent_name_of(app, v)
    registration = app.registration(agent)
    text_in = v.media_type == "text/plain"
    body: dict[str, Any] = {} if text_in else dict(v.body)
    message = str(v.body) if text_in else str(body["message"])
    session = resolve_session(body, v.query) or new_session_key()
    schema = body.get("response_schema")
    if "response_format" in body:
        if schema is not None and schema != body["response_format"]:
            raise InvalidRequest("response_schema and response_format disagree; send one of them.")
        schema = body["response_format"]
    role = str(body.get("role", "user"))
    if role not in registration.allowed_roles:
        raise RoleNotAllowed(f"This app does not accept messages with role '{role}'.")
    preference = wait_preference(v.headers, v.query, body, app.options.wait_timeout)
    op = RunOperation(
        correlation_id=v.headers.get("idempotency-key") or new_correlation_id(),
        message=message,
        role=role,
        enable_tool_calls=body.get("enable_tool_calls", True) is not False,
        response_schema=schema,
        if_match=v.headers.get("if-match"),
    )
    text_out = wants_text(v.media_type, req.headers.get("accept"))
    with EntityWaiter(client, df.EntityId(agent, session)) as waiter:
        if "idempotency-key" in v.headers or op.if_match is not None:
            state = await waiter.read()
            if op.if_match is not None and op.if_match != etag_of(state):
                raise PreconditionFailed("If-Match does not match the session's current ETag; read it again.")
            early = _answer(state, op)
            if early is not None:
                return await _respond(app, early, agent, session, op, text_out, req)
        await waiter.signal("run_agent", op.to_input())
        found = await waiter.wait(lambda s: _answer(s, op), preference.seconds)
    if found is not None:
        return await _respond(app, found, agent, session, op, text_out, req)
    await run_async(app.stores.store().mark_accepted(agent, session, op.correlation_id))
    return accepted(req.url, agent, session, op, text_out, preference.applied, route_segments=3)


def accepted(
    url: str,
    agent: str,
    session: str,
    op: RunOperation,
    text_out: bool,
    applied: str | None,
    route_segments: int,
    status: str = "accepted",
) -> func.HttpResponse:
    """202: the turn is queued or running; ``Location`` will have its result."""
    location = turn_location(url, agent, session, op.correlation_id, route_segments)
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
    body = {
        "response": "Agent request accepted",
        "message": op.message,
        "sessionId": session,
        "session_id": session,
        "status": status,
        "correlationId": op.correlation_id,
        "correlation_id": op.correlation_id,
        "location": location,
    }
    return json_response(body, 202, headers)


async def _respond(
    app: Any, found: Found, agent: str, session: str, op: RunOperation, text_out: bool, req: func.HttpRequest
) -> func.HttpResponse:
    entry, state = found
    headers = {"x-ms-session-id": session, "x-ms-correlation-id": op.correlation_id}
    if entry.get("status") != 200:
        problem = from_record(entry.get("problem") or {"status": entry.get("status", 500)})
        return problem_response(
            problem, urlsplit(req.url).path, correlationId=op.correlation_id, sessionId=session
        )
    reply = await reply_for(app, agent, session, entry, state)
    headers["ETag"] = etag_of(state) or ""
    if text_out:
        response = reply["response"]
        return text_response(response if isinstance(response, str) else json.dumps(response), 200, headers)
    return json_response(reply, 200, headers)
