"""Route the front door's requests to HTTP-triggered functions, the way the Functions host does.

Why: an app written for Azure relies on ASP.NET route precedence: literal segments beat
parameters, constrained parameters beat free ones, catch-alls come last
(``RoutePrecedence.ComputeInbound``), whatever order the functions were declared in. The front
door resolves every request here; templates are parsed once at startup (``route_grammar``) so a
lookup is a scan of ready-made segments (:meth:`RouteTemplate.match`).

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

from durableagent.local.route_grammar import RouteParam, RouteSegment, parse_template

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


class RouteTemplate:
    """One parsed template; :meth:`match` returns route values or ``None``."""

    def __init__(self, template: str) -> None:
        """Parse ``template`` (a leading ``~/`` is dropped); ValueError for a catch-all not last."""
        self.template = template
        self.segments: tuple[RouteSegment, ...] = parse_template(template)
        for seg in self.segments[:-1]:
            if seg.param is not None and seg.param.catch_all:
                raise ValueError(f"route {template!r}: a catch-all parameter must be the last segment")
        self.precedence: tuple[int, ...] = tuple(s.precedence for s in self.segments)
        # How many path segments can match at all (the router skips the others without matching).
        catch_all = any(s.param is not None and s.param.catch_all for s in self.segments)
        required = len(self.segments)
        while required and _all_optional(self.segments[required - 1 :]):
            required -= 1
        self.min_segments = required
        self.max_segments = 1_000_000 if catch_all else len(self.segments)

    def match(self, path_segments: list[str]) -> dict[str, str] | None:
        """The route values for the path's segments, or None; literals match ignoring case."""
        values: dict[str, str] = {}
        n = len(path_segments)
        for i, seg in enumerate(self.segments):
            if seg.literal is not None:
                if i >= n or path_segments[i].casefold() != seg.literal:
                    return None
                continue
            param = seg.param
            if param is not None and param.catch_all:
                rest = "/".join(path_segments[i:])
                if rest:
                    if not _accepts(param, rest):
                        return None
                    values[param.name] = rest
                elif param.default is not None:
                    values[param.name] = param.default
                return values
            if i < n and path_segments[i] == "":
                return None
            if i >= n:
                if not _all_optional(self.segments[i:]):
                    return None
                for rest_seg in self.segments[i:]:
                    for p in _params_of(rest_seg):
                        if p.default is not None:
                            values[p.name] = p.default
                return values
            value = path_segments[i]
            if param is not None:
                if not _accepts(param, value):
                    return None
                values[param.name] = value
            else:
                assert seg.complex_re is not None
                m = seg.complex_re.fullmatch(value)
                if m is None:
                    return None
                for p in seg.complex_params:
                    got = m.group(p.name)
                    if got:
                        if not _accepts(p, got):
                            return None
                        values[p.name] = got
                    elif not p.optional:
                        return None
        return values if n <= len(self.segments) else None


def _accepts(param: RouteParam, value: str) -> bool:
    return all(c(value) for c in param.constraints)


def _params_of(seg: RouteSegment) -> tuple[RouteParam, ...]:
    return (seg.param,) if seg.param is not None else seg.complex_params


def _all_optional(segments: Iterable[RouteSegment]) -> bool:
    for seg in segments:
        if seg.literal is not None:
            return False
        for p in _params_of(seg):
            if not (p.optional or p.catch_all or p.default is not None):
                return False
    return True
