"""How a failed agent run becomes a stable problem, without leaking what went wrong inside.

The model service, a tool or the app can fail a turn. Callers get a stable problem type and a
status they can act on (retry after a 503, not after a 500); the exception's own text never leaves
the process (it may hold prompts, keys or paths). The log line carries the exception type and the
correlation id only.

| failure                                         | problem                      | retryable |
|-------------------------------------------------|------------------------------|-----------|
| timeout (``TimeoutError``, ``*Timeout*`` types) | 504 upstream-timeout         | yes       |
| upstream 429 / 5xx / connection error            | 503 upstream-unavailable     | yes       |
| upstream 400 / content filter / invalid request  | 400 upstream-rejected        | no        |
| structured reply not matching the schema         | 422 structured-output-invalid| no        |
| anything else (a tool bug, an auth failure, …)   | 500 agent-failed             | no        |
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from agent_framework.exceptions import (
    AgentContentFilterException,
    AgentInvalidRequestException,
    ChatClientContentFilterException,
    ChatClientInvalidRequestException,
)

from durableagent.contract.problems import (
    AgentFailed,
    Problem,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

DEFAULT_RETRY_AFTER = 5
_REJECTED = (
    AgentContentFilterException,
    AgentInvalidRequestException,
    ChatClientContentFilterException,
    ChatClientInvalidRequestException,
)
_CONNECTION_NAMES = ("APIConnectionError", "ConnectError", "ClientConnectorError", "ServerDisconnectedError")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and the framework's ``inner_exception`` args, without loops."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__, *current.args):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _retry_after(exc: BaseException) -> int:
    value: Any = getattr(exc, "retry_after", None)
    if value is None:
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        value = headers.get("retry-after") if hasattr(headers, "get") else None
    try:
        return max(1, min(int(float(value)), 300))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER


def classify(exc: BaseException) -> Problem:
    """The problem a failed run is reported as (see the table in the module docstring)."""
    for current in _chain(exc):
        name = type(current).__name__
        if isinstance(current, (asyncio.TimeoutError, TimeoutError)) or "Timeout" in name:
            return UpstreamTimeout(
                "The model service did not answer in time. The turn was not recorded; retry it."
            )
        status = _status_of(current)
        if status == 429 or (status is not None and status >= 500) or name in _CONNECTION_NAMES:
            return UpstreamUnavailable(
                "The model service is temporarily unavailable. The turn was not recorded; retry after the "
                "Retry-After delay.",
                retry_after=_retry_after(current),
            )
        if isinstance(current, _REJECTED) or status in (400, 404, 413, 422):
            return UpstreamRejected("The model service rejected the request (for example a content filter).")
    return AgentFailed("The agent failed while running this turn. See the app's logs for the correlation id.")


def is_retryable(problem: Problem) -> bool:
    """Transient failures leave no trace in the history; the same request may be retried."""
    return isinstance(problem, (UpstreamUnavailable, UpstreamTimeout))
