"""The Problem class (RFC 9457), its compact record form, and its one renderer.

Why this module exists: every error answered is ``application/problem+json`` with a stable ``type``
(``https://durableagent.dev/problems/<slug>``) and ``title``; ``contract.problems`` holds the catalogue
of problem types, this module what they share: rendering (``render``), the record kept in entity
state (``Problem.to_record`` / ``from_record``), and the invariants below.

Invariants: bodies never carry exception text (``detail`` is text we write; unexpected exceptions
become a bare ``InternalError`` at the error boundary); a subclass without its own slug/status/title
renders as its parent (MRO); ``sessionId``/``correlationId`` extensions are rendered only when valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar, TypedDict

__all__ = ["CONTENT_TYPE", "TYPE_BASE", "Problem", "ProblemRecord", "from_record", "render"]

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://durableagent.dev/problems/"
_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "errors"})
_ID_PATTERNS = {  # openapi.yaml's SessionId / CorrelationId (a test keeps them equal)
    "sessionId": re.compile(r"[A-Za-z0-9_-]{1,128}"),
    "correlationId": re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,127}"),
}


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
        slug = "internal-error"
    problem = Problem._by_slug.get(slug, Problem)(detail, retry_after=retry_after)
    if type(problem) is not Problem:
        return problem
    problem.status = status
    problem.type_uri = type_uri or (TYPE_BASE + slug if slug else "about:blank")
    known = {s.value: s.phrase for s in HTTPStatus}
    problem.title = str(record.get("title") or known.get(status, Problem.title))
    return problem
