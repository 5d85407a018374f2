"""Route the front door's requests to HTTP-triggered functions, the way the Functions host does.

Why: an app written for Azure relies on ASP.NET route precedence: literal segments beat
parameters, constrained parameters beat free ones, catch-alls come last
(``RoutePrecedence.ComputeInbound``), whatever order the functions were declared in. The front
door resolves every request here; templates are precompiled (``route_template``) so a lookup is a
scan of ready-made segments.

Invariants: literals compare case-insensitively; a path that matches a route but none of its
methods resolves to :class:`MethodNotAllowed`, which says which methods would have matched; the
front door answers it with 404, as the Functions host does (its router treats the methods as a
route constraint).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

from durableagent.local.route_template import RouteTemplate

__all__ = ["Match", "MethodNotAllowed", "RouteTemplate", "Router", "split_path"]

T = TypeVar("T")


@dataclass(frozen=True)
class Match(Generic[T]):
    """The route that matched: its target and the path parameters, percent-decoded."""

    target: T
    params: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    """A route matched the path but not the method; ``allowed`` lists the methods it takes."""

    allowed: list[str]


@dataclass
class _Entry(Generic[T]):
    template: RouteTemplate
    methods: frozenset[str] | None  # None: every method
    target: T
    order: int


class Router(Generic[T]):
    """Routes under a common prefix; :meth:`resolve` picks the most specific route for a path."""

    def __init__(self, prefix: str = "") -> None:
        """An empty router whose routes all sit under ``prefix`` (slashes trimmed)."""
        self.prefix = prefix.strip("/")
        self._entries: list[_Entry[T]] = []

    def add(self, route: str, methods: Iterable[str] | None, target: T) -> RouteTemplate:
        """Add ``route`` under the prefix for ``methods`` (None: every method); returns its template."""
        full = f"{self.prefix}/{route.strip('/')}" if self.prefix else route
        template = RouteTemplate(full)
        ms = frozenset(m.upper() for m in methods) if methods is not None else None
        self._entries.append(_Entry(template, ms, target, len(self._entries)))
        self._entries.sort(key=lambda e: (e.template.precedence, e.order))
        return template

    def resolve(self, method: str, path: str) -> Match[T] | MethodNotAllowed | None:
        """``path`` is the raw (percent-encoded) URL path."""
        segments = split_path(path)
        count = len(segments)
        allowed: set[str] = set()
        for entry in self._entries:
            template = entry.template
            if not template.min_segments <= count <= template.max_segments:
                continue
            values = template.match(segments)
            if values is None:
                continue
            if entry.methods is None or method in entry.methods:
                return Match(entry.target, values)
            allowed.update(entry.methods)
        if allowed:
            return MethodNotAllowed(sorted(allowed))
        return None


def split_path(path: str) -> list[str]:
    """Path segments, percent-decoded one by one (an encoded ``/`` stays inside its segment)."""
    stripped = path.strip("/")
    if not stripped:
        return []
    if "%" in stripped:
        return [unquote(s) for s in stripped.split("/")]
    return stripped.split("/")
