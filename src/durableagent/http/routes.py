"""The one route table: every HTTP function of openapi.yaml, and how it is registered on the app.

Each function accepts every method and lets the contract answer 405 for the ones the spec does not
define, so an unsupported method gets the same problem on Azure and on the local host. Functions
that reach session entities take the ``durableClient`` binding as its raw JSON (``client: str``,
the binding the SDK's ``durable_client_input`` declares, without its per-request client object):
``RouteContext.entities`` picks the client the request needs. A route's template is its
URL under the host's route prefix; handlers derive the prefix from it (``edge.route_prefix_of``).

Handlers return a :data:`~durableagent.http.replies.Reply` (a whole ``func.HttpResponse`` or
a ``StreamReply``). Registration picks the app's HTTP model once: classic functions
(``replies.classic_function``: a stream is sent whole) or, with ``http_streaming``, the
FastAPI-typed functions of the Azure HTTP streams extension (``http/fastapi_mode.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from durableagent.http import agui, cancel, conversation, docs, meta, run, sessions_list, stream, turn_status
from durableagent.http.edge import DEFAULT_LIMITS, RouteContext
from durableagent.http.replies import Reply, classic_function

HttpFunction = Callable[..., Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    """One HTTP function: its name, URL template, and how to make it for an app."""

    name: str
    template: str
    make: Callable[[RouteContext], HttpFunction]
    durable_client: bool = False
    app_auth: bool = True  # the app's http_auth_level; False: always anonymous (the contract, the docs)


def _static(function: HttpFunction) -> Callable[[RouteContext], HttpFunction]:
    return lambda _ctx: function


ROUTES = (
    Route("agent_run", run.TEMPLATE, run.run_function, durable_client=True),
    Route("agent_sessions", sessions_list.TEMPLATE, sessions_list.sessions_function),
    Route("agent_session", conversation.TEMPLATE, conversation.conversation_function, durable_client=True),
    Route("agent_turn", run.TURN_TEMPLATE, turn_status.turn_function, durable_client=True),
    Route("agent_turn_stream", stream.TEMPLATE, stream.stream_function, durable_client=True),
    Route("agent_turn_cancel", cancel.TEMPLATE, cancel.cancel_function, durable_client=True),
    Route("agent_ag_ui", agui.TEMPLATE, agui.agui_function, durable_client=True),
    Route("health", meta.HEALTH_TEMPLATE, meta.health_function),
    Route("openapi_json", meta.JSON_TEMPLATE, _static(meta.openapi_json), app_auth=False),
    Route("openapi_yaml", meta.YAML_TEMPLATE, _static(meta.openapi_yaml), app_auth=False),
    Route("docs", docs.PAGE_TEMPLATE, _static(docs.docs_page), app_auth=False),
    Route("docs_asset", docs.ASSET_TEMPLATE, _static(docs.docs_asset), app_auth=False),
)


def register_routes(
    app: Any,
    ctx: RouteContext,
    *,
    http_auth_level: func.AuthLevel,
    health: bool,
    http_streaming: bool = False,
) -> None:
    """Add the contract's HTTP functions to ``app`` (a ``df.DFApp``; its decorators are untyped).

    ``http_streaming``: register them in the FastAPI model (the caller has loaded the extension).
    """
    for route in ROUTES:
        if route.name == "health" and not health:
            continue
        function: Callable[..., Awaitable[Any]]
        if http_streaming:
            from durableagent.http.fastapi_mode import fastapi_function  # FastAPI only in this mode

            function = fastapi_function(
                route.make(ctx),
                durable_client=route.durable_client,
                max_body_bytes=max(ctx.options.max_body_bytes, DEFAULT_LIMITS.max_body_bytes),
            )
        else:
            function = classic_function(route.make(ctx), ctx.streams_live)
        if route.durable_client:
            function = app.generic_input_binding(arg_name="client", type="durableClient")(function)
        auth = http_auth_level if route.app_auth else func.AuthLevel.ANONYMOUS
        app.function_name(route.name)(
            app.route(route=route.template, methods=None, auth_level=auth)(function)
        )
