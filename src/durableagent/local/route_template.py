"""Parse an ASP.NET route template (``agents/{name}/run``, ``{id:int}``, ``{name?}``, ``{*rest}``).

Why: route values and precedence must come out exactly as the Functions host computes them, so
the grammar (``{{``/``}}`` escapes, constraint arguments holding ``:`` or ``)``, optional and
default values, complex segments such as ``{name}.{ext}``) is parsed here once per route at
startup, into segments that :class:`RouteTemplate.match` walks without further parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from durableagent.local.route_constraints import Constraint, parse_constraint


@dataclass(frozen=True)
class _Param:
    name: str
    constraints: tuple[Constraint, ...]
    optional: bool
    default: str | None
    catch_all: bool

    def accepts(self, value: str) -> bool:
        return all(c(value) for c in self.constraints)


@dataclass(frozen=True)
class _Segment:
    literal: str | None = None  # casefolded literal
    param: _Param | None = None
    complex_re: re.Pattern[str] | None = None  # multi-part segment such as {name}.{ext}
    complex_params: tuple[_Param, ...] = ()

    @property
    def precedence(self) -> int:
        # ASP.NET RoutePrecedence.ComputeInboundPrecedenceDigit.
        if self.literal is not None:
            return 1
        if self.complex_re is not None:
            return 2
        assert self.param is not None
        digit = 5 if self.param.catch_all else 3
        return digit - 1 if self.param.constraints else digit


class RouteTemplate:
    """One parsed template; :meth:`match` returns route values or ``None``."""

    def __init__(self, template: str) -> None:
        """Parse ``template`` (a leading ``~/`` is dropped); ValueError for a catch-all not last."""
        self.template = template
        text = template.strip()
        if text.startswith("~/"):
            text = text[2:]
        parts = [p for p in text.strip("/").split("/")] if text.strip("/") else []
        self.segments: tuple[_Segment, ...] = tuple(_parse_segment(p, template) for p in parts)
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
                    if not param.accepts(rest):
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
                if not param.accepts(value):
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
                        if not p.accepts(got):
                            return None
                        values[p.name] = got
                    elif not p.optional:
                        return None
        return values if n <= len(self.segments) else None


def _params_of(seg: _Segment) -> tuple[_Param, ...]:
    return (seg.param,) if seg.param is not None else seg.complex_params


def _all_optional(segments: Iterable[_Segment]) -> bool:
    for seg in segments:
        if seg.literal is not None:
            return False
        for p in _params_of(seg):
            if not (p.optional or p.catch_all or p.default is not None):
                return False
    return True


_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _split_segment(text: str, template: str) -> list[tuple[bool, str]]:
    """Split one segment into (is_param, text) parts, honouring ``{{`` and ``}}`` escapes."""
    parts: list[tuple[bool, str]] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{" and text.startswith("{{", i):
            buf.append("{")
            i += 2
        elif ch == "}" and text.startswith("}}", i):
            buf.append("}")
            i += 2
        elif ch == "{":
            if buf:
                parts.append((False, "".join(buf)))
                buf = []
            i += 1
            inner: list[str] = []
            while True:
                if i >= len(text):
                    raise ValueError(f"route {template!r}: unterminated parameter")
                if text.startswith("{{", i) or text.startswith("}}", i):
                    inner.append(text[i])
                    i += 2
                elif text[i] == "}":
                    i += 1
                    break
                else:
                    inner.append(text[i])
                    i += 1
            parts.append((True, "".join(inner)))
        elif ch == "}":
            raise ValueError(f"route {template!r}: unbalanced '}}'")
        else:
            buf.append(ch)
            i += 1
    if buf:
        parts.append((False, "".join(buf)))
    return parts


def _parse_param(text: str, template: str) -> _Param:
    catch_all = text.startswith("*")
    text = text.lstrip("*")
    m = _PARAM_NAME.match(text)
    if m is None:
        raise ValueError(f"route {template!r}: invalid parameter {text!r}")
    name = m.group(0)
    rest = text[m.end() :]
    default: str | None = None
    optional = False
    constraints: list[Constraint] = []
    while rest:
        if rest.startswith(":"):
            spec, rest = _take_constraint(rest[1:], template)
            constraints.append(parse_constraint(spec, template))
        elif rest == "?":
            optional, rest = True, ""
        elif rest.startswith("="):
            default, rest = rest[1:], ""
        else:
            raise ValueError(f"route {template!r}: cannot parse parameter {text!r}")
    return _Param(name, tuple(constraints), optional, default, catch_all)


def _take_constraint(text: str, template: str) -> tuple[str, str]:
    """Read ``name`` or ``name(args)`` where args may hold ``:`` or ``)`` (regexes)."""
    m = re.match(r"[A-Za-z]+", text)
    if m is None:
        raise ValueError(f"route {template!r}: empty constraint")
    end = m.end()
    if end < len(text) and text[end] == "(":
        # The argument list ends at the last ')' that is followed by the end, '?', '=' or ':name'.
        for j in range(len(text) - 1, end, -1):
            if text[j] == ")" and re.match(r"(?:$|\?$|=|:[A-Za-z])", text[j + 1 :]):
                return text[: j + 1], text[j + 1 :]
        raise ValueError(f"route {template!r}: unterminated constraint arguments")
    return text[:end], text[end:]


def _parse_segment(text: str, template: str) -> _Segment:
    parts = _split_segment(text, template)
    if len(parts) == 1 and not parts[0][0]:
        return _Segment(literal=parts[0][1].casefold())
    if len(parts) == 1:
        return _Segment(param=_parse_param(parts[0][1], template))
    params: list[_Param] = []
    pattern: list[str] = []
    for is_param, part in parts:
        if is_param:
            p = _parse_param(part, template)
            if p.catch_all:
                raise ValueError(f"route {template!r}: a catch-all cannot be part of a complex segment")
            params.append(p)
            pattern.append(f"(?P<{p.name}>.+)" + ("?" if p.optional else ""))
        else:
            pattern.append(re.escape(part))
    return _Segment(
        complex_re=re.compile("".join(pattern), re.IGNORECASE | re.DOTALL), complex_params=tuple(params)
    )
