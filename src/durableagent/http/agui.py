"""``POST /agents/{agentName}/ag-ui``: AG-UI clients on durable sessions, unmodified.

The body is AG-UI's ``RunAgentInput``, checked against the contract (``AgUiRunInput``). Mapping:
``threadId`` is the session id, ``runId`` the turn's correlation id (an idempotency key: the same
run posted again attaches to its turn instead of running it twice), the last ``user`` message the
turn's message. The rest of ``messages`` is the client's copy of a history the server keeps
durably, so it is not replayed into the session. The answer is the turn's stream
(``http/stream``), which AG-UI's ``HttpAgent`` reads as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func

from durableagent.contract.problems import InvalidRequest, RoleNotAllowed
from durableagent.contract.validate import ValidatedRequest
from durableagent.conversation.stream_base import StreamKey
from durableagent.entity.turn_io import RunOperation
from durableagent.http.edge import RouteContext, serve
from durableagent.http.replies import Reply
from durableagent.http.run import start_streamed_turn
from durableagent.http.stream import require_event_stream

TEMPLATE = "agents/{agentName}/ag-ui"
MAX_BODY_BYTES = 1024 * 1024  # AG-UI clients send their whole history; the local host's own limit


def user_message(messages: list[Any]) -> str:
    """The text of the last ``user`` message that has text (string content, or ``text`` parts joined).

    Raises:
        InvalidRequest: there is none, or it has no text.
    """
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            text = content
        else:
            parts = content if isinstance(content, list) else []
            text = "".join(
                str(p.get("text") or "") for p in parts if isinstance(p, dict) and p.get("type") == "text"
            )
        if text:
            return text
    raise InvalidRequest("RunAgentInput.messages must hold a user message with text.")


def agui_function(ctx: RouteContext) -> Callable[..., Awaitable[Reply]]:
    """The ``agent_ag_ui`` HTTP function of the app described by ``ctx``."""

    async def agent_ag_ui(req: func.HttpRequest, client: str, context: func.Context) -> Reply:
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

    return agent_ag_ui


async def _run(
    ctx: RouteContext, req: func.HttpRequest, binding: str, context: func.Context, v: ValidatedRequest
) -> Reply:
    require_event_stream(req.headers.get("accept"))
    registration = ctx.agent(v)
    body: dict[str, Any] = v.body  # the contract checked threadId, runId and messages
    session, run_id = str(body["threadId"]), str(body["runId"])
    if "user" not in registration.allowed_roles:
        raise RoleNotAllowed("This app does not accept messages with role 'user'.")
    op = RunOperation(correlation_id=run_id, message=user_message(body["messages"]), stream=True)
    entities = ctx.entities(binding, context.invocation_id)
    key = StreamKey(registration.name, session, op.correlation_id)
    return await start_streamed_turn(ctx, req, entities, key, op, "enqueue", TEMPLATE)
