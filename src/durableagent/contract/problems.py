"""The one Problem tree (RFC 9457) and its one renderer.

Why this module exists: every error answered is `application/problem+json` with a stable `type`
(`https://durableagent.dev/problems/<slug>`) and `title`, both part of the HTTP contract; raising
a `Problem` subclass anywhere and rendering it here is the only way an error reaches a caller.

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


class InvalidRequest(Problem):
    status, slug, title = 400, "invalid-request", "The request does not match the API contract"


class InvalidJson(InvalidRequest):
    slug, title = "invalid-json", "The request body is not valid JSON"


class ConflictingSessionIds(InvalidRequest):
    slug, title = "conflicting-session-ids", "The request names more than one session"


class InvalidResponseSchema(InvalidRequest):
    slug, title = "invalid-response-schema", "The response schema is not acceptable"


class UpstreamRejected(Problem):
    status, slug, title = 400, "upstream-rejected", "The model service rejected the request"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class RoleNotAllowed(Problem):
    status, slug, title = 403, "role-not-allowed", "The message role is not allowed"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class AgentNotFound(NotFound):
    slug, title = "agent-not-found", "Agent not found"


class SessionNotFound(NotFound):
    slug, title = "session-not-found", "Session not found"


class TurnNotFound(NotFound):
    slug, title = "turn-not-found", "Turn not found"


class MethodNotAllowed(Problem):
    """405; pass `allow=[...]` (methods) to set the `Allow` header."""

    status, slug, title = 405, "method-not-allowed", "Method not allowed"

    def __init__(self, detail: str | None = None, *, allow: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        methods = sorted({m.upper() for m in allow})
        if methods:
            self.headers["Allow"] = ", ".join(methods)


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class IdempotencyKeyReused(Problem):
    status, slug, title = 422, "idempotency-key-reused", "The idempotency key was used for another request"


class StructuredOutputInvalid(Problem):
    status, slug, title = 422, "structured-output-invalid", "The reply does not match the response schema"


class InternalError(Problem):
    status, slug, title = 500, "internal-error", "Internal server error"


class InvocationFailed(InternalError):
    """A function of the app raised (the local host's answer; it names only the invocation id)."""

    slug, title = "invocation-failed", "Function invocation failed"


class AgentFailed(InternalError):
    slug, title = "agent-failed", "The agent failed"


class TurnPoisoned(InternalError):
    slug, title = "turn-poisoned", "The turn failed repeatedly and was abandoned"


class UnsupportedStateVersion(InternalError):
    slug, title = "unsupported-state-version", "The session state has an unsupported version"


class UpstreamUnavailable(Problem):
    status, slug, title = 503, "upstream-unavailable", "The model service is unavailable"


class StoreUnavailable(Problem):
    status, slug, title = 503, "store-unavailable", "The conversation store is unavailable"


class UpstreamTimeout(Problem):
    status, slug, title = 504, "upstream-timeout", "The model service did not answer in time"


def render(problem: Problem, instance: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """`(status, headers, body)` of the `application/problem+json` response for `problem`."""
    body = json.dumps(problem.to_dict(instance), ensure_ascii=False, separators=(",", ":"))
    headers = {**problem.headers, "Content-Type": CONTENT_TYPE}
    return problem.status, headers, body.encode("utf-8")


def from_record(record: Mapping[str, Any]) -> Problem:
    """Rebuild a problem stored as `{type|slug, title, status, detail?, retry_after?}`.

    A known slug gives its class (stored title ignored: titles are the code's); an unknown one
    gives a generic `Problem` keeping the stored type, title and status. A record with a status
    only is `InternalError` for 500, else RFC 9457's `about:blank` with the HTTP reason phrase.
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
