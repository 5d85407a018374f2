"""The catalogue of problem types (RFC 9457): one class per stable ``type``; import them from here.

Every error answered is one of these (or a subclass): ``status``, ``slug`` (the ``type`` URI is
``https://durableagent.dev/problems/<slug>``) and ``title`` are part of the HTTP contract. Raising one
anywhere and rendering it with ``render`` (``contract.problem_base``, re-exported here with the rest
of the machinery) is the only way an error reaches a caller. The problems of streamed responses are
in ``contract.stream_problems`` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .problem_base import CONTENT_TYPE, TYPE_BASE, Problem, ProblemRecord, from_record, render
from .stream_problems import InvalidLastEventId, NotAcceptable

__all__ = [
    "CONTENT_TYPE",
    "TYPE_BASE",
    "AgentFailed",
    "AgentNotFound",
    "ConflictingSessionIds",
    "HeadersTooLarge",
    "IdempotencyKeyReused",
    "InternalError",
    "InvalidJson",
    "InvalidLastEventId",
    "InvalidRequest",
    "InvalidResponseSchema",
    "InvocationFailed",
    "MalformedRequest",
    "MethodNotAllowed",
    "MisdirectedRequest",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "Problem",
    "ProblemRecord",
    "RequestTimeout",
    "RoleNotAllowed",
    "ServerBusy",
    "SessionNotFound",
    "StoreUnavailable",
    "StructuredOutputInvalid",
    "TurnNotFound",
    "TurnPoisoned",
    "Unauthorized",
    "UnsupportedMediaType",
    "UnsupportedStateVersion",
    "UpstreamRejected",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "from_record",
    "render",
]


class InvalidRequest(Problem):
    """400: the request breaks openapi.yaml or a rule beside it; ``errors`` says where."""

    status, slug, title = 400, "invalid-request", "The request does not match the API contract"


class InvalidJson(InvalidRequest):
    """400: the body is not strict RFC 8259 JSON in UTF-8 (or starts with a BOM, or nests too deep)."""

    slug, title = "invalid-json", "The request body is not valid JSON"


class ConflictingSessionIds(InvalidRequest):
    """400: the session id aliases (``sessionId``, ``thread_id``...) in body and query disagree."""

    slug, title = "conflicting-session-ids", "The request names more than one session"


class InvalidResponseSchema(InvalidRequest):
    """400: a response schema that is not a valid, local, bounded draft 2020-12 schema."""

    slug, title = "invalid-response-schema", "The response schema is not acceptable"


class UpstreamRejected(Problem):
    """400: the model service refused the request itself (a content filter, a bad argument)."""

    status, slug, title = 400, "upstream-rejected", "The model service rejected the request"


class Unauthorized(Problem):
    """401: a key-protected function or Durable webhook was called without a valid key."""

    status, slug, title = 401, "unauthorized", "Authentication required"


class RoleNotAllowed(Problem):
    """403: the message's role is not one this app accepts."""

    status, slug, title = 403, "role-not-allowed", "The message role is not allowed"


class NotFound(Problem):
    """404: no route or asset at this path (also a method a function does not accept, as on Azure)."""

    status, slug, title = 404, "not-found", "Not found"


class AgentNotFound(NotFound):
    """404: no agent of the requested name is registered."""

    slug, title = "agent-not-found", "Agent not found"


class SessionNotFound(NotFound):
    """404: the session has no state (never used, or its entity was deleted)."""

    slug, title = "session-not-found", "Session not found"


class TurnNotFound(NotFound):
    """404: no turn with this correlation id is known for the session."""

    slug, title = "turn-not-found", "Turn not found"


class MethodNotAllowed(Problem):
    """405; pass `allow=[...]` (methods) to set the `Allow` header."""

    status, slug, title = 405, "method-not-allowed", "Method not allowed"

    def __init__(self, detail: str | None = None, *, allow: Iterable[str] = (), **kwargs: Any) -> None:
        """``allow`` lists the methods the resource does accept, upper-cased into ``Allow``."""
        super().__init__(detail, **kwargs)
        if methods := sorted({m.upper() for m in allow}):
            self.headers["Allow"] = ", ".join(methods)


class PreconditionFailed(Problem):
    """412: ``If-Match`` does not match the session's current ETag."""

    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(Problem):
    """413: the body, or a response schema in it, is over its size limit."""

    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    """415: the body's Content-Type is not one the operation accepts."""

    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class IdempotencyKeyReused(Problem):
    """422: an ``Idempotency-Key`` that was already used with a different body."""

    status, slug, title = 422, "idempotency-key-reused", "The idempotency key was used for another request"


class StructuredOutputInvalid(Problem):
    """422: the agent's reply does not validate against the requested response schema."""

    status, slug, title = 422, "structured-output-invalid", "The reply does not match the response schema"


class InternalError(Problem):
    """500 naming no cause: what an unexpected exception becomes at the error boundary."""

    status, slug, title = 500, "internal-error", "Internal server error"


class InvocationFailed(InternalError):
    """A function of the app raised (the local host's answer; it names only the invocation id)."""

    slug, title = "invocation-failed", "Function invocation failed"


class AgentFailed(InternalError):
    """500: the agent raised while running the turn; the logs hold the exception type."""

    slug, title = "agent-failed", "The agent failed"


class TurnPoisoned(InternalError):
    """500: a turn whose attempts kept failing past ``max_attempts``, recorded as failed."""

    slug, title = "turn-poisoned", "The turn failed repeatedly and was abandoned"


class UnsupportedStateVersion(InternalError):
    """500: session state from an unknown schema version, left untouched."""

    slug, title = "unsupported-state-version", "The session state has an unsupported version"


class UpstreamUnavailable(Problem):
    """503: the model service is overloaded or unreachable; ``retry_after`` is its hint."""

    status, slug, title = 503, "upstream-unavailable", "The model service is unavailable"


class StoreUnavailable(Problem):
    """503: the durable backend or the conversation store is not answering; retry later."""

    status, slug, title = 503, "store-unavailable", "The conversation store is unavailable"


class UpstreamTimeout(Problem):
    """504: the model service (or a queued reset) did not finish in time."""

    status, slug, title = 504, "upstream-timeout", "The model service did not answer in time"


class RequestTimeout(Problem):
    """408: the request's headers did not arrive in time."""

    status, slug, title = 408, "request-timeout", "Request timeout"


class HeadersTooLarge(Problem):
    """431: the request line and headers are larger than the host accepts."""

    status, slug, title = 431, "headers-too-large", "Request header fields too large"


class TooManyTurns(Problem):
    """429: too many turns are queued, on the session or on the host; retry after ``Retry-After``."""

    status, slug, title = 429, "too-many-turns", "Too many turns are queued"


class ServerBusy(Problem):
    """503: the host has as many connections open as it accepts."""

    status, slug, title = 503, "server-busy", "The server is busy"


class MalformedRequest(Problem):
    """400: the request is not valid HTTP/1.1 (framing or syntax)."""

    status, slug, title = 400, "malformed-request", "Malformed HTTP request"


class MisdirectedRequest(Problem):
    """421: the ``Host`` the request names is not one this server answers for."""

    status, slug, title = 421, "misdirected-request", "Misdirected request"
