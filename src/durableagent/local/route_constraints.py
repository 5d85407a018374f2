"""Inline route constraints (``{id:int}``, ``{name:alpha}``, ``{v:regex(...)}``, ...).

Why: a constraint changes which function a request reaches (``items/{id:int}`` vs
``items/{name}``), so the local host must evaluate the same constraints as ASP.NET routing, and
reject an unknown one at startup instead of silently matching everything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime

Constraint = Callable[[str], bool]

_INT = re.compile(r"[+-]?\d+\Z")
_ALPHA = re.compile(r"[A-Za-z]+\Z")
_HEX = "[0-9a-fA-F]"
_GUID = re.compile(
    rf"(?:{_HEX}{{32}}|{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
    rf"|\{{{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\}}"
    rf"|\({_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\))\Z"
)


def _int_in(bits: int) -> Constraint:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: str) -> bool:
        return bool(_INT.match(value)) and lo <= int(value) <= hi

    return check


def _is_float(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


_SIMPLE: dict[str, Constraint] = {
    "int": _int_in(32),
    "long": _int_in(64),
    "alpha": lambda v: bool(_ALPHA.match(v)),
    "bool": lambda v: v.lower() in ("true", "false"),
    "guid": lambda v: bool(_GUID.match(v)),
    "double": _is_float,
    "float": _is_float,
    "decimal": _is_float,
    "datetime": _is_datetime,
    "required": lambda v: v != "",
    "nonfile": lambda v: "." not in v.rsplit("/", 1)[-1],
    "file": lambda v: "." in v.rsplit("/", 1)[-1],
}


def _numbers(args: str, count: int, spec: str, template: str) -> list[int]:
    items = [a.strip() for a in args.split(",")] if args else []
    if len(items) != count or not all(_INT.match(a) for a in items):
        raise ValueError(f"route {template!r}: constraint {spec!r} needs {count} integer argument(s)")
    return [int(a) for a in items]


def parse_constraint(spec: str, template: str) -> Constraint:
    """Build the predicate for one constraint spec such as ``int``, ``length(3,8)`` or ``regex(^a$)``."""
    name, _, rest = spec.partition("(")
    key = name.lower()
    args = rest[:-1] if rest.endswith(")") else rest
    if not rest and key in _SIMPLE:
        return _SIMPLE[key]
    if key == "regex" and rest:
        # ASP.NET: Regex.IsMatch with IgnoreCase | CultureInvariant, not anchored by itself.
        pattern = re.compile(args, re.IGNORECASE)
        return lambda v: pattern.search(v) is not None
    if key == "length":
        n = len(args.split(","))
        if n == 1:
            (exact,) = _numbers(args, 1, spec, template)
            return lambda v: len(v) == exact
        lo, hi = _numbers(args, 2, spec, template)
        return lambda v: lo <= len(v) <= hi
    if key == "minlength":
        (lo,) = _numbers(args, 1, spec, template)
        return lambda v: len(v) >= lo
    if key == "maxlength":
        (hi,) = _numbers(args, 1, spec, template)
        return lambda v: len(v) <= hi
    long_ok = _SIMPLE["long"]
    if key == "min":
        (lo,) = _numbers(args, 1, spec, template)
        return lambda v: long_ok(v) and int(v) >= lo
    if key == "max":
        (hi,) = _numbers(args, 1, spec, template)
        return lambda v: long_ok(v) and int(v) <= hi
    if key == "range":
        lo, hi = _numbers(args, 2, spec, template)
        return lambda v: long_ok(v) and lo <= int(v) <= hi
    raise ValueError(f"route {template!r}: unknown route constraint {spec!r}")
