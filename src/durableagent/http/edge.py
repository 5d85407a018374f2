"""Every request's way in: validation, the error boundary, the app's parts, what the request asks for.

A route handler only ever sees a request that matches openapi.yaml (``serve``); whatever it raises
becomes a problem+json response. Unknown exceptions become a 500 ``internal-error`` carrying the
invocation's correlation id; neither the response nor the log line carries the exception's text
(it may hold prompts or secrets) unless ``DURABLEAGENT_DEBUG_LOGS=1`` asks for tracebacks.

Also here: the adapter of ``func.HttpRequest`` to openapi-core's ``Request`` protocol (the contract
layer does not import azure.functions), :class:`RouteContext`, the typed view of the app that
handlers get instead of the app itself, and what a request asks for in its standard headers: the
media it accepts (:func:`accepts`) and how long it waits for its answer (:func:`wait_preference`).
Answers go out through ``http/replies.py``.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.http import parse_cookie

from durableagent import entity_client
from durableagent.contract.limits import Limits
from durableagent.contract.problems import (
    AgentNotFound,
    InternalError,
    MethodNotAllowed,
    Problem,
    StoreUnavailable,
)
from durableagent.contract.validate import ContractValidator, ValidatedRequest
from durableagent.conversation.base import StoreUnavailableError
from durableagent.conversation.factory import StoreHolder
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity.registration import AgentRegistration
from durableagent.entity_client import EntityClient
from durableagent.http.replies import Reply, StreamReply, problem_response, route_prefix_of
from durableagent.logs import THROTTLE, log_failure
from durableagent.options import AppOptions

logger = logging.getLogger("durableagent.http")

Handler = Callable[[ValidatedRequest], Awaitable[Reply]]
_DEFAULT_HOST = "http://localhost"
_NO_QUERY: ImmutableMultiDict[str, str] = ImmutableMultiDict()
_NO_COOKIES: ImmutableMultiDict[str, str] = ImmutableMultiDict()
DEFAULT_LIMITS = Limits()
LOCAL_HOST_ENV = "DURABLEAGENT_LOCAL_HOST"  # set by durableagent's local host (local/bootstrap.py)


@dataclass
class RouteContext:
    """What route handlers know of the app: its agents, options and conversation store."""

    agents: Mapping[str, AgentRegistration]  # by lower-cased name: the app's own (growing) registry
    options: AppOptions
    stores: StoreHolder

    def agent(self, validated: ValidatedRequest) -> AgentRegistration:
        """The agent named in the path (case-insensitive).

        Raises:
            AgentNotFound: no agent of that name is registered.
        """
        registration = self.agents.get(str(validated.path.get("agentName", "")).lower())
        if registration is None:
            raise AgentNotFound("No agent with this name is registered; see GET /health for the list.")
        return registration

    def entities(self, binding: str, invocation_id: str | None) -> EntityClient:
        """The entity client of a request whose function received the ``durableClient`` ``binding``.

        A host running in this process serves it in-process; any other host through the SDK.
        """
        local = entity_client.IN_PROCESS.get(entity_client.rpc_base_url(binding))
        return local if local is not None else entity_client.SdkEntityClient(binding, invocation_id)

    def store(self) -> ConversationStore:
        """The app's conversation store (the one its entities use)."""
        return self.stores.current or self.stores.store()

    def streams_live(self) -> bool:
        """Whether the host sends a streamed body as it is produced (else it is buffered whole).

        durableagent's local host does (it sets ``DURABLEAGENT_LOCAL_HOST``), and so does an app in
        the HTTP streams extension's mode (``options.http_streaming``); the plain Python worker does not.
        """
        return os.environ.get(LOCAL_HOST_ENV) == "1" or bool(getattr(self.options, "http_streaming", False))


class AzureOpenAPIRequest:
    """A ``func.HttpRequest`` seen through openapi-core's ``Request`` protocol.

    ``path`` is the URL path exactly as received (still percent-encoded, route prefix included);
    query parameters keep every value (``?a=1&a=2``), with ``req.params`` filling in names the URL
    lacks; headers stay the request's own case-insensitive mapping; ``content_type`` is lower-case.
    """

    __slots__ = ("body", "content_type", "host_url", "method", "parameters", "path", "request")

    def __init__(self, request: func.HttpRequest) -> None:
        """Adapt ``request`` (no copy of headers or body)."""
        self.request = request
        parts = urlsplit(request.url)
        self.host_url: str = f"{parts.scheme}://{parts.netloc}" if parts.netloc else _DEFAULT_HOST
        self.path: str = parts.path or "/"
        self.method: str = request.method.lower()
        headers: Mapping[str, str] = request.headers
        pairs = parse_qsl(parts.query, keep_blank_values=True) if parts.query else []
        names = {name for name, _ in pairs}
        pairs.extend((k, v) for k, v in request.params.items() if k not in names)
        cookie = headers.get("cookie")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(pairs) if pairs else _NO_QUERY,
            header=headers,  # case-insensitive already; werkzeug Headers would raise on a "\n"
            cookie=parse_cookie(cookie) if cookie else _NO_COOKIES,
            path={},
        )
        self.content_type: str = (headers.get("content-type") or "").strip().lower()
        self.body: bytes = request.get_body() or b""


def validator_for(route_prefix: str, max_body_bytes: int | None = None) -> ContractValidator:
    """One validator per route prefix and body limit (normally one per process)."""
    return _validator(
        route_prefix, DEFAULT_LIMITS.max_body_bytes if max_body_bytes is None else max_body_bytes
    )


@lru_cache(maxsize=8)
def _validator(route_prefix: str, max_body_bytes: int) -> ContractValidator:
    return ContractValidator(route_prefix=route_prefix, limits=Limits(max_body_bytes=max_body_bytes))


async def serve(
    req: func.HttpRequest,
    template: str,
    handler: Handler,
    context: func.Context | None = None,
    *,
    methods: frozenset[str] = frozenset({"GET"}),
    max_body_bytes: int | None = None,
) -> Reply:
    """Validate ``req`` (routed by ``template``) and run ``handler``; any failure becomes a problem.

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
        validator = validator_for(route_prefix_of(req.url, template), max_body_bytes)
        validated = validator.validate(AzureOpenAPIRequest(req))
        operation = validated.operation_id
        response = await handler(validated)
    except Problem as problem:
        response = problem_response(problem, instance=path)
    except StoreUnavailableError as exc:  # a full disk, a throttled table: the same 503 everywhere
        THROTTLE.log(
            logger,
            logging.WARNING,
            "store",
            "conversation store unavailable in %s (%s)",
            operation,
            type(exc).__name__,
        )
        response = problem_response(
            StoreUnavailable(
                "The conversation store is temporarily unavailable; retry shortly.", retry_after=5
            ),
            instance=path,
        )
    except Exception as exc:  # noqa: BLE001 - the error boundary: anything becomes a 500 problem
        log_failure(logger, exc, "unhandled failure in %s (correlationId=%s)", operation, invocation)
        response = problem_response(
            InternalError("The app failed to handle this request."), instance=path, correlationId=invocation
        )
    if logger.isEnabledFor(logging.DEBUG):  # per-request lines are debug output (Azure logs invocations)
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status if isinstance(response, StreamReply) else response.status_code
        logger.debug("%s %s -> %d in %.1f ms", req.method, operation, status, elapsed)
    return response


# What a request asks for in its standard headers: the media it accepts, how long it waits.

_REFUSED = re.compile(r"q=0(\.0*)?\s*($|;)")
def accepts(accept: str | None, *media: str) -> bool:
    """Whether an ``Accept`` header allows one of ``media`` (no header allows anything; ``q=0`` refuses)."""
    if not accept:
        return True
    for part in accept.split(","):
        token, _, params = part.strip().lower().partition(";")
        for one in media:
            if token in (one, "*/*", one.split("/")[0] + "/*") and not _REFUSED.search(params):
                return True
    return False


def names_media(accept: str | None, media: str) -> bool:
    """Whether ``Accept`` names ``media`` itself (``*/*`` keeps a route's default answer)."""
    return bool(accept) and media in str(accept).lower()


_TRUE, _FALSE = frozenset({"true", "1", "yes", "y", "on"}), frozenset({"false", "0", "no", "n", "off"})


@dataclass(frozen=True)
class WaitPreference:
    """How long to wait for the reply, and the ``Prefer`` token honoured (for ``Preference-Applied``)."""

    seconds: float
    applied: str | None


def parse_bool(value: Any) -> bool | None:
    """``True``/``False`` for the usual spellings, ``None`` for anything else (so the next source decides)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
    return None


def parse_prefer(header: str | None) -> tuple[bool, float | None]:
    """``(respond_async, wait_seconds)`` from a ``Prefer`` header; unknown preferences are ignored."""
    respond_async, wait = False, None
    for part in (header or "").split(","):
        token = part.split(";", 1)[0].strip().lower()
        if token == "respond-async":  # noqa: S105 - a Prefer token, not a secret
            respond_async = True
        elif token.startswith("wait="):
            try:
                wait = max(0.0, float(token[5:].strip().strip('"')))
            except ValueError:
                continue
    return respond_async, wait


def wait_preference(
    headers: Mapping[str, Any], query: Mapping[str, Any], body_wait: Any, cap: float
) -> WaitPreference:
    """How long to wait for the reply before answering 202.

    Precedence: the ``x-ms-wait-for-response`` header, the ``wait_for_response`` query parameter,
    the body's, ``Prefer`` (RFC 7240: ``respond-async``, ``wait=N``), then the app's wait cap ``cap``.
    """
    for explicit in (headers.get("x-ms-wait-for-response"), query.get("wait_for_response"), body_wait):
        decided = parse_bool(explicit)
        if decided is not None:
            return WaitPreference(cap if decided else 0.0, None)
    respond_async, wait = parse_prefer(headers.get("prefer"))
    if wait is not None:
        applied = f"wait={wait:g}" if not respond_async else f"respond-async, wait={wait:g}"
        return WaitPreference(min(wait, cap), applied)
    return WaitPreference(0.0, "respond-async") if respond_async else WaitPreference(cap, None)
