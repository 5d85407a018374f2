"""Registers the HTTP functions of openapi.yaml on an ``AgentFunctionApp``, one per path.

Each function accepts every method and lets contract validation answer 405 for the ones the spec
does not define, so an unsupported method gets the same problem on Azure and on the local host.
Routes needing the durable client declare it with ``durable_client_input``; the others do not pay
for it.
"""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df
import azure.functions as func

from durableagent.http.conversation import handle_session
from durableagent.http.docs import handle_docs, handle_docs_asset
from durableagent.http.meta import handle_health, handle_openapi_json, handle_openapi_yaml
from durableagent.http.run import handle_run
from durableagent.http.turn_status import handle_turn

ROUTES = {
    "agent_run": "agents/{agentName}/run",
    "agent_session": "agents/{agentName}/{sessionId}",
    "agent_turn": "agents/{agentName}/{sessionId}/turns/{correlationId}",
    "health": "health",
    "openapi_json": "openapi.json",
    "openapi_yaml": "openapi.yaml",
    "docs": "docs",
    "docs_asset": "docs/assets/{assetName}",
}


def register_routes(app: Any, *, http_auth_level: func.AuthLevel, health: bool) -> None:
    """Add the contract's HTTP functions to ``app``."""

    @app.function_name("agent_run")
    @app.route(route=ROUTES["agent_run"], methods=None, auth_level=http_auth_level)
    @app.durable_client_input(client_name="client")
    async def agent_run(
        req: func.HttpRequest, client: df.DurableOrchestrationClient, context: func.Context
    ) -> func.HttpResponse:
        return await handle_run(app, req, client, context)

    @app.function_name("agent_session")
    @app.route(route=ROUTES["agent_session"], methods=None, auth_level=http_auth_level)
    @app.durable_client_input(client_name="client")
    async def agent_session(
        req: func.HttpRequest, client: df.DurableOrchestrationClient, context: func.Context
    ) -> func.HttpResponse:
        return await handle_session(app, req, client, context)

    @app.function_name("agent_turn")
    @app.route(route=ROUTES["agent_turn"], methods=None, auth_level=http_auth_level)
    @app.durable_client_input(client_name="client")
    async def agent_turn(
        req: func.HttpRequest, client: df.DurableOrchestrationClient, context: func.Context
    ) -> func.HttpResponse:
        return await handle_turn(app, req, client, context)

    if health:

        @app.function_name("health")
        @app.route(route=ROUTES["health"], methods=None, auth_level=http_auth_level)
        async def health_check(req: func.HttpRequest) -> func.HttpResponse:
            return await handle_health(app, req)

    @app.function_name("openapi_json")
    @app.route(route=ROUTES["openapi_json"], methods=None, auth_level=func.AuthLevel.ANONYMOUS)
    async def openapi_json(req: func.HttpRequest) -> func.HttpResponse:
        return await handle_openapi_json(req)

    @app.function_name("openapi_yaml")
    @app.route(route=ROUTES["openapi_yaml"], methods=None, auth_level=func.AuthLevel.ANONYMOUS)
    async def openapi_yaml(req: func.HttpRequest) -> func.HttpResponse:
        return await handle_openapi_yaml(req)

    @app.function_name("docs")
    @app.route(route=ROUTES["docs"], methods=None, auth_level=func.AuthLevel.ANONYMOUS)
    async def docs(req: func.HttpRequest) -> func.HttpResponse:
        return await handle_docs(req)

    @app.function_name("docs_asset")
    @app.route(route=ROUTES["docs_asset"], methods=None, auth_level=func.AuthLevel.ANONYMOUS)
    async def docs_asset(req: func.HttpRequest) -> func.HttpResponse:
        return await handle_docs_asset(req)
