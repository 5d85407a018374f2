"""Every request's way in: contract validation, the agent lookup, and the error boundary.

A route handler only ever sees a request that matches openapi.yaml; whatever it raises becomes a
problem+json response. Unknown exceptions become a 500 ``internal-error`` carrying the invocation's
correlation id; neither the response nor the log line carries the exception's text (it may hold
prompts or secrets) unless ``DURABLEAGENT_DEBUG_LOGS=1`` asks for tracebacks in the log.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import lru_cache
from urllib.parse import urlsplit

import azure.functions as func

from durableagent.contract.limits import Limits
from durableagent.contract.problems import AgentNotFound, InternalError, MethodNotAllowed, Problem
from durableagent.contract.validate import ContractValidator, ValidatedRequest
from durableagent.http.openapi_adapter import AzureOpenAPIRequest
from durableagent.http.responses import problem_response
from durableagent.logs import log_failure

logger = logging.getLogger("durableagent.http")

Handler = Callable[[ValidatedRequest], Awaitable[func.HttpResponse]]


@lru_cache(maxsize=8)
def validator_for(route_prefix: str, max_body_bytes: int | None = None) -> ContractValidator:
    """One validator per route prefix and body limit (normally one per process)."""
    limits = Limits() if max_body_bytes is None else Limits(max_body_bytes=max_body_bytes)
    return ContractValidator(route_prefix=route_prefix, limits=limits)


def route_prefix_of(url: str, route_segments: int) -> str:
    """The host's route prefix, from the request path minus the route's own segments."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return "/".join(segments[: max(0, len(segments) - route_segments)])


async def serve(
    req: func.HttpRequest,
    route_segments: int,
    handler: Handler,
    context: func.Context | None = None,
    methods: frozenset[str] = frozenset({"GET"}),
    max_body_bytes: int | None = None,
) -> func.HttpResponse:
    """Validate ``req`` and run ``handler``; any failure becomes a problem response.

    ``methods`` are the ones the spec defines for this function's path: others get 405 at once
    (``GET /agents/x/run`` must not be read as the conversation of a session called "run").
    """
    started = time.perf_counter()
    path = urlsplit(req.url).path
    invocation = getattr(context, "invocation_id", None) or uuid.uuid4().hex
    operation = "-"
    try:
        if req.method.upper() not in methods:
            raise MethodNotAllowed("This route does not support this method.", allow=methods)
        validator = validator_for(route_prefix_of(req.url, route_segments), max_body_bytes)
        validated = validator.validate(AzureOpenAPIRequest(req))
        operation = validated.operation_id
        response = await handler(validated)
    except Problem as problem:
        response = problem_response(problem, instance=path)
    except Exception as exc:  # noqa: BLE001 - the error boundary: anything becomes a 500 problem
        log_failure(logger, exc, "unhandled failure in %s (correlationId=%s)", operation, invocation)
        response = problem_response(
            InternalError("The app failed to handle this request."), instance=path, correlationId=invocation
        )
    logger.info(
        "%s %s -> %d in %.1f ms",
        req.method,
        operation,
        response.status_code,
        (time.perf_counter() - started) * 1000,
    )
    return response


def agent_name_of(app: object, validated: ValidatedRequest) -> str:
    """The registered name of the agent in the path (case-insensitive); 404 when unknown."""
    requested = str(validated.path.get("agentName", ""))
    registration = app.registration(requested)  # type: ignore[attr-defined]
    if registration is None:
        raise AgentNotFound("No agent with this name is registered; see GET /health for the list.")
    return str(registration.name)
