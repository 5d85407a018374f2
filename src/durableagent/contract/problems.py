"""The one Problem tree (RFC 9457) and its one renderer.

Why: every error answered is `application/problem+json` with a stable `type` (`TYPE_BASE` + slug) and
`title` (both HTTP contract); raising a `Problem` and rendering it here is the only way errors are answered.

Invariants: bodies never carry exception text (`detail` is text we write; unexpected exceptions
become a bare `InternalError` at the error boundary); a subclass without its own slug/status/title
renders as its parent (MRO); `sessionId`/`correlationId` extensions are rendered only when valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar, TypedDict

# fmt: off
__all__ = [
    "CONTENT_TYPE", "TYPE_BASE", "AgentFailed", "AgentNotFound", "ConflictingSessionIds",
    "IdempotencyKeyReused", "InternalError", "InvalidJson", "InvalidRequest", "InvalidResponseSchema",
    "InvocationFailed", "MethodNotAllowed", "NotFound", "PayloadTooLarge", "PreconditionFailed", "Problem",
    "ProblemRecord", "RoleNotAllowed", "SessionNotFound", "StoreUnavailable", "StructuredOutputInvalid",
    "TurnNotFound", "TurnPoisoned", "Unauthorized", "UnsupportedMediaType", "UnsupportedStateVersion",
    "UpstreamRejected", "UpstreamTimeout", "UpstreamUnavailable", "from_record", "render",
]
# fmt: on

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://durableagent.dev/problems/"
_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "errors"})
_ID_PATTERNS = {  # openapi.yaml's SessionId / CorrelationId (a test keeps them equal)
    "sessionId": re.compile(r"[A-Za-z0-9_-]{1,128}"),
    "correlationId": re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,127}"),
}  # fmt: skip


class ProblemRecord(TypedDict, total=False):
    """The compact form of a problem kept in entity state and transcripts (no exception text)."""

    type: str
    title: str
    status: int
    detail: str
    retry_after: int


class Problem(Exception):
    """Base of every error answered to a caller. Subclasses set `status`, `slug` and `title`."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"
    _by_slug: ClassVar[dict[str, type[Problem]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register each subclass that declares its own ``slug``, so `from_record` can rebuild it."""
        super().__init_subclass__(**kwargs)
        if "slug" in cls.__dict__:
            Problem._by_slug.setdefault(cls.slug, cls)

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Iterable[Mapping[str, Any]] | None = None,
        retry_after: int | None = None,
        **extensions: Any,
    ) -> None:
        """``retry_after`` also sets ``Retry-After``; ValueError if an extension shadows a standard member."""
        if clash := _RESERVED.intersection(extensions):
            raise ValueError(f"extension members shadow standard members: {sorted(clash)}")
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers: dict[str, str] = dict(headers or {})
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors or ()]
        self.retry_after = retry_after
        if retry_after is not None:
            self.headers["Retry-After"] = str(max(0, int(retry_after)))
        self.extensions: dict[str, Any] = extensions
        self.type_uri: str = TYPE_BASE + self.slug

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document (JSON-ready), standard members first."""
        doc: dict[str, Any] = {"type": self.type_uri, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = self.errors
        for key, value in self.extensions.items():
            pattern = _ID_PATTERNS.get(key)
            if value is not None and (
                pattern is None or (isinstance(value, str) and pattern.fullmatch(value))
            ):
                doc[key] = value
        return doc

    def to_record(self) -> ProblemRecord:
        """The compact form kept in entity state (`from_record` rebuilds the problem)."""
        record = ProblemRecord(type=self.type_uri, title=self.title, status=self.status)
        if self.detail:
            record["detail"] = self.detail
        if self.retry_after is not None:
            record["retry_after"] = self.retry_after
        return record


# fmt: off
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
        methods = sorted({m.upper() for m in allow})
        if methods:
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
# fmt: on


def render(problem: Problem, instance: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """`(status, headers, body)` of the `application/problem+json` response for `problem`."""
    body = json.dumps(problem.to_dict(instance), ensure_ascii=False, separators=(",", ":"))
    headers = {**problem.headers, "Content-Type": CONTENT_TYPE}
    return problem.status, headers, body.encode("utf-8")


def from_record(record: Mapping[str, Any]) -> Problem:
    """Rebuild a problem stored as `{type|slug, title, status, detail?, retry_after?}`.

    A known slug gives its class (stored title ignored); an unknown one a `Problem` with the stored type,
    title and status; a bare status is `InternalError` for 500, else `about:blank` with the reason phrase.
    """
    type_uri = str(record.get("type") or "")
    slug = str(record.get("slug") or (type_uri[len(TYPE_BASE) :] if type_uri.startswith(TYPE_BASE) else ""))
    detail = record.get("detail") if isinstance(record.get("detail"), str) else None
    retry_after = int(retry) if isinstance(retry := record.get("retry_after"), int | float) else None
    status = code if isinstance(code := record.get("status"), int) and 400 <= code <= 599 else 500
    if not slug and not type_uri and status == 500:
        slug = InternalError.slug
    problem = Problem._by_slug.get(slug, Problem)(detail, retry_after=retry_after)
    if type(problem) is not Problem:
        return problem
    problem.status = status
    problem.type_uri = type_uri or (TYPE_BASE + slug if slug else "about:blank")
    known = {s.value: s.phrase for s in HTTPStatus}
    problem.title = str(record.get("title") or known.get(status, Problem.title))
    return problem
