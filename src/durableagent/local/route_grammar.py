"""The grammar of ASP.NET route templates (``agents/{name}/run``, ``{id:int}``, ``{name?}``, ``{*rest}``).

Why: route values and precedence must come out exactly as the Functions host computes them, so
the grammar (``{{``/``}}`` escapes, constraint arguments holding ``:`` or ``)``, optional and
default values, complex segments such as ``{name}.{ext}``) is parsed here once per route at
startup, into plain segments that ``router.RouteTemplate.match`` walks without further parsing
(nothing here runs per request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from durableagent.local.route_constraints import Constraint, parse_constraint


@dataclass(frozen=True)
class RouteParam:
    """One ``{parameter}`` of a template."""

    name: str
    constraints: tuple[Constraint, ...]
    optional: bool
    default: str | None
    catch_all: bool


@dataclass(frozen=True)
class RouteSegment:
    """One ``/``-separated segment: a literal, one parameter, or a complex pattern."""

    literal: str | None = None  # casefolded literal
    param: RouteParam | None = None
    complex_re: re.Pattern[str] | None = None  # multi-part segment such as {name}.{ext}
    complex_params: tuple[RouteParam, ...] = ()

    @property
    def precedence(self) -> int:
        """ASP.NET's inbound precedence digit of this segment (lower sorts first)."""
        # ASP.NET RoutePrecedence.ComputeInboundPrecedenceDigit.
        if self.literal is not None:
            return 1
        if self.complex_re is not None:
            return 2
        assert self.param is not None
        digit = 5 if self.param.catch_all else 3
        return digit - 1 if self.param.constraints else digit


def parse_template(template: str) -> tuple[RouteSegment, ...]:
    """The segments of ``template`` (a leading ``~/`` is dropped)."""
    text = template.strip()
    if text.startswith("~/"):
        text = text[2:]
    parts = text.strip("/").split("/") if text.strip("/") else []
    return tuple(_parse_segment(p, template) for p in parts)


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


def _parse_param(text: str, template: str) -> RouteParam:
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
    return RouteParam(name, tuple(constraints), optional, default, catch_all)


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


def _parse_segment(text: str, template: str) -> RouteSegment:
    parts = _split_segment(text, template)
    if len(parts) == 1 and not parts[0][0]:
        return RouteSegment(literal=parts[0][1].casefold())
    if len(parts) == 1:
        return RouteSegment(param=_parse_param(parts[0][1], template))
    params: list[RouteParam] = []
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
    return RouteSegment(
        complex_re=re.compile("".join(pattern), re.IGNORECASE | re.DOTALL), complex_params=tuple(params)
    )
