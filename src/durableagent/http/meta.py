"""``GET /health`` and the contract itself (``/openapi.json``, ``/openapi.yaml``).

The served spec is the shipped openapi.yaml with its ``servers`` URL set to the host's route
prefix, so Swagger UI and generated clients call the right paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import azure.functions as func
from durableagent_models import Agent, Health

from durableagent.contract.spec import spec_json, spec_yaml
from durableagent.contract.validate import ValidatedRequest
from durableagent.http.edge import RouteContext, serve
from durableagent.http.replies import Reply, bytes_response, json_response, route_prefix_of

HEALTH_TEMPLATE = "health"
JSON_TEMPLATE = "openapi.json"
YAML_TEMPLATE = "openapi.yaml"


def health_function(ctx: RouteContext) -> Callable[[func.HttpRequest], Awaitable[Reply]]:
    """The ``health`` HTTP function: the registered agents."""

    async def health_check(req: func.HttpRequest) -> Reply:
        async def health(v: ValidatedRequest) -> Reply:
            agents = [Agent(name=reg.name, type=reg.agent_type) for reg in ctx.agents.values()]
            return json_response(Health(status="healthy", agents=agents, agent_count=len(agents)))

        return await serve(req, HEALTH_TEMPLATE, health)

    return health_check


async def openapi_json(req: func.HttpRequest) -> Reply:
    """``GET /openapi.json``."""

    async def spec(v: ValidatedRequest) -> Reply:
        return bytes_response(spec_json(route_prefix_of(req.url, JSON_TEMPLATE)), "application/json")

    return await serve(req, JSON_TEMPLATE, spec)


async def openapi_yaml(req: func.HttpRequest) -> Reply:
    """``GET /openapi.yaml``."""

    async def spec(v: ValidatedRequest) -> Reply:
        return bytes_response(spec_yaml(route_prefix_of(req.url, YAML_TEMPLATE)), "application/yaml")

    return await serve(req, YAML_TEMPLATE, spec)
