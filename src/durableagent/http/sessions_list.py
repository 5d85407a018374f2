"""``GET /agents/{agentName}/sessions``: one page of an agent's sessions, newest activity first.

Read from the conversation store's session index (``conversation.store_protocol``), which every session
entity keeps current: no entity is read or enumerated, so a page costs one index range on every
backend (the Azure Table store's index rows live in the transcript table). The cursor is the
store's own and opaque; one it did not issue is a 400 ``invalid-request``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import azure.functions as func
from durableagent_models import SessionList, SessionSummary

from durableagent.contract.problems import InvalidRequest, StoreUnavailable
from durableagent.contract.validate import ValidatedRequest
from durableagent.conversation.base import StoreUnavailableError
from durableagent.conversation.paging import InvalidCursorError
from durableagent.entity.loop import run_async
from durableagent.http.edge import RouteContext, serve
from durableagent.http.replies import Reply, json_response

TEMPLATE = "agents/{agentName}/sessions"
DEFAULT_LIMIT = 100


def sessions_function(ctx: RouteContext) -> Callable[..., Awaitable[Reply]]:
    """The ``agent_sessions`` HTTP function of the app described by ``ctx``."""

    # No ``context`` parameter: in the HTTP streams model a function without a durable client is
    # called with the request alone (``fastapi_mode.fastapi_function``), as health and docs are.
    async def agent_sessions(req: func.HttpRequest) -> Reply:
        async def listing(v: ValidatedRequest) -> Reply:
            return await _list(ctx, v)

        return await serve(req, TEMPLATE, listing)

    return agent_sessions


async def _list(ctx: RouteContext, v: ValidatedRequest) -> func.HttpResponse:
    agent = ctx.agent(v).name
    limit = v.query.get("limit")
    cursor = v.query.get("cursor")
    try:
        page = await run_async(
            ctx.store().list_sessions(
                agent, int(limit) if limit is not None else DEFAULT_LIMIT, str(cursor) if cursor else None
            )
        )
    except InvalidCursorError:
        raise InvalidRequest("The cursor is not one this listing issued; start again without it.") from None
    except StoreUnavailableError:
        raise StoreUnavailable("The conversation store is temporarily unavailable.", retry_after=2) from None
    sessions = [
        SessionSummary(
            sessionId=s.session,
            created_at=s.created_at,
            last_active_at=s.last_active_at,
            turns=s.turns,
            expires_at=s.expires_at,
        )
        for s in page.sessions
    ]
    return json_response(SessionList(sessions=sessions, next_cursor=page.next_cursor))
