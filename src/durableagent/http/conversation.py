"""``GET`` (read) and ``DELETE`` (reset) of ``/agents/{agentName}/{sessionId}``.

Reads are committed state only: the record through ``read_entity_state``, the turns it counts from
the transcript store (turns a crashed attempt wrote beyond the committed count are never shown).
A reset is the entity's ``reset`` operation; the route waits until the entity is gone (or reborn
with a new incarnation) so that a following GET cannot see the old conversation.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from durableagent.contract.problems import (
    PreconditionFailed,
    SessionNotFound,
    StoreUnavailable,
    UpstreamTimeout,
)
from durableagent.contract.validate import ValidatedRequest
from durableagent.conversation.base import SessionRef, StoreUnavailableError
from durableagent.entity.loop import run_async
from durableagent.entity.state import AgentState
from durableagent.entity.view import conversation
from durableagent.http.edge import agent_name_of, serve
from durableagent.http.responses import json_response
from durableagent.http.session_state import record_of
from durableagent.http.waiter import EntityWaiter

_NOT_FOUND = "No conversation with this session id exists for this agent."


async def handle_session(
    app: Any,
    req: func.HttpRequest,
    client: df.DurableOrchestrationClient,
    context: func.Context | None = None,
) -> func.HttpResponse:
    async def dispatch(v: ValidatedRequest) -> func.HttpResponse:
        if v.operation_id == "resetConversation":
            return await _reset(app, client, v)
        return await _read(app, client, v)

    return await serve(req, 3, dispatch, context, frozenset({"GET", "DELETE"}))


def page_bounds(turns: int, limit: int | None, before: int | None) -> tuple[int, int, int | None]:
    """``(first, last, next_before)`` of the requested page of turns (1-based, inclusive)."""
    last = min(turns, before - 1) if before is not None else turns
    first = max(1, last - limit + 1) if limit is not None else 1
    next_before = first if limit is not None and first > 1 else None
    return first, last, next_before


async def _read(app: Any, client: df.DurableOrchestrationClient, v: ValidatedRequest) -> func.HttpResponse:
    agent = agent_name_of(app, v)
    session = str(v.path["sessionId"])
    with EntityWaiter(client, df.EntityId(agent, session)) as waiter:
        state = await waiter.read()
    if state is None:
        raise SessionNotFound(_NOT_FOUND)
    agent_type = type(app.registration(agent).agent).__name__
    record = record_of(state)
    if record is None:  # 0.0.2b1 state, not yet migrated by the entity: render it as it is
        legacy = AgentState()
        legacy.restore_state(state)
        return json_response({**_legacy_view(legacy), "agent_type": agent_type, "sessionId": session})
    first, last, next_before = page_bounds(record.turns, v.query.get("limit"), v.query.get("before"))
    records = []
    if last >= first:
        ref = SessionRef(agent, session, record.incarnation)
        try:
            records = await run_async(app.stores.store().load_turns(ref, first, last))
        except StoreUnavailableError:
            raise StoreUnavailable(
                "The conversation store is temporarily unavailable.", retry_after=2
            ) from None
    body = conversation(
        records,
        turns=record.turns,
        last_response=record.last_response,
        agent_type=agent_type,
        session=session,
        next_before=next_before,
    )
    return json_response(body, headers={"ETag": record.etag})


def _legacy_view(state: AgentState) -> dict[str, Any]:
    history = []
    for message in state.conversation_history:
        props = message.additional_properties
        entry: dict[str, Any] = {
            "role": message.role,
            "content": message.text,
            "timestamp": str(props.get("timestamp") or "1970-01-01T00:00:00Z"),
        }
        history.append(entry)
    return {
        "message_count": state.message_count,
        "conversation_history": history,
        "last_response": state.last_response,
        "turn_count": state.message_count,
        "next_before": None,
    }


async def _reset(app: Any, client: df.DurableOrchestrationClient, v: ValidatedRequest) -> func.HttpResponse:
    agent = agent_name_of(app, v)
    session = str(v.path["sessionId"])
    with EntityWaiter(client, df.EntityId(agent, session)) as waiter:
        state = await waiter.read()
        if state is None:
            raise SessionNotFound(_NOT_FOUND)
        record = record_of(state)
        if_match = v.headers.get("if-match")
        if if_match is not None and (record is None or if_match != record.etag):
            raise PreconditionFailed("If-Match does not match the session's current ETag; read it again.")
        before = record.incarnation if record is not None else None
        await waiter.signal("reset", None)
        done = await waiter.wait(
            lambda s: True if s is None or s.get("incarnation") != before else None,
            app.options.wait_timeout or 30.0,
        )
    if done is None:
        raise UpstreamTimeout(
            "The reset is queued behind running turns and did not finish in time; it will still be applied."
        )
    return json_response({"status": "reset", "sessionId": session})
