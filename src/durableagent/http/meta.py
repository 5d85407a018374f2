"""``GET /health`` and the contract itself (``/openapi.json``, ``/openapi.yaml``).

The served spec is the shipped openapi.yaml with its ``servers`` URL set to the host's route
prefix, so Swagger UI and generated clients call the right paths.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func

from durableagent.contract.spec import spec_json, spec_yaml
from durableagent.contract.validate import ValidatedRequest
from durableagent.http.edge import route_prefix_of, serve
from durableagent.http.responses import bytes_response, json_response


async def handle_health(app: Any, req: func.HttpRequest) -> func.HttpResponse:
    async def health(v: ValidatedRequest) -> func.HttpResponse:
        agents = [{"name": name, "type": type(agent).__name__} for name, agent in app.agents.items()]
        return json_response({"status": "healthy", "agents": agents, "agent_count": len(agents)})

    return await serve(req, 1, health)


async def handle_openapi_json(req: func.HttpRequest) -> func.HttpResponse:
    async def spec(v: ValidatedRequest) -> func.HttpResponse:
        return bytes_response(spec_json(route_prefix_of(req.url, 1)), "application/json")

    return await serve(req, 1, spec)


async def handle_openapi_yaml(req: func.HttpRequest) -> func.HttpResponse:
    async def spec(v: ValidatedRequest) -> func.HttpResponse:
        return bytes_response(spec_yaml(route_prefix_of(req.url, 1)), "application/yaml")

    return await serve(req, 1, spec)
