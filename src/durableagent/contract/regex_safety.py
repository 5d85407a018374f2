r"""Refuse caller-supplied regular expressions that Python's backtracking engine can take forever on.

Why this module exists: a ``response_schema`` ``pattern`` is run (by jsonschema, with :mod:`re`) on
the model's reply, and the caller influences both the pattern and, through the message, the reply.
``{"pattern": "(a+)+$"}`` with a reply of forty ``a`` and a ``!`` takes hours, holding the GIL, so
one request stalled the whole host (found by the durability battery). :mod:`re` has no time limit,
so the only safe place to stop such patterns is before they are accepted.

The check is static and conservative: it refuses the shapes that make backtracking super-linear,
on the pattern's parse tree (never by running it):

* a variable-length repeat inside an unbounded one, or an unbounded repeat inside any repeat:
  ``(a+)+``, ``(\w+\s?)*``, ``(a{1,3})+``, ``(a+){2}`` (``(\d{1,3}\.){3}`` is fine);
* an alternation inside an unboundedly repeated group: ``(a|ab)+``, ``(foo|fo)*``;
* two unbounded repeats with nothing mandatory between them: ``\d*\d*``, ``a+b?a+``;
* backreferences: ``(a)\1``.

Patterns it accepts still run in time polynomial in the reply's length with a small degree (for
example ``.*x.*x.*`` is cubic); it does not claim to catch those.
"""

from __future__ import annotations

from typing import Any

from durableagent.compat import regex_parser

# CPython's own regex parser and opcodes (private names: see durableagent.compat).
_sre_parse, _c = regex_parser()

__all__ = ["backtracking_risk"]

_REPEATS = {
    _c.MAX_REPEAT,
    _c.MIN_REPEAT,
    *([_c.POSSESSIVE_REPEAT] if hasattr(_c, "POSSESSIVE_REPEAT") else ()),
}
_BACKREFS = {_c.GROUPREF, _c.GROUPREF_EXISTS, _c.GROUPREF_IGNORE}
_CONSUMING = {_c.LITERAL, _c.NOT_LITERAL, _c.IN, _c.ANY}


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` could backtrack catastrophically, or None if it cannot.

    Invalid patterns give None too (the metaschema's ``regex`` format reports those).
    """
    try:
        tree = _sre_parse.parse(pattern)
    except (_c.error, RecursionError, OverflowError, ValueError):
        return None
    return _scan(list(tree), 0)[0]


def _subpatterns(value: Any) -> list[list[Any]]:
    """The nested sub-patterns inside an opcode's argument (tuples and lists of them)."""
    if isinstance(value, _sre_parse.SubPattern):
        return [list(value)]
    if isinstance(value, (tuple, list)):
        found: list[list[Any]] = []
        for item in value:
            found.extend(_subpatterns(item))
        return found
    return []


def _scan(items: list[Any], outer: int, after_unbounded: bool = False) -> tuple[str | None, bool]:
    """``(reason, after_unbounded)`` for a sequence of opcodes.

    ``outer`` is the largest count of the enclosing repeats (0: none), ``after_unbounded`` whether an
    unbounded repeat precedes with nothing mandatory since (the state a sequence continues with).
    """
    for op, av in items:
        if op in _BACKREFS:
            return "a backreference", after_unbounded
        if op is _c.SUBPATTERN:  # a plain group is part of the sequence it sits in
            reason, after_unbounded = _scan(list(av[-1]), outer, after_unbounded)
            if reason:
                return reason, after_unbounded
            continue
        if op in _REPEATS:
            low, high, sub = av
            unbounded = high == _c.MAXREPEAT
            if (low != high and outer == _c.MAXREPEAT) or (unbounded and outer > 1):
                return "a nested quantifier", after_unbounded
            if unbounded and after_unbounded:
                return "two adjacent unbounded repeats", after_unbounded
            reason, _ = _scan(list(sub), max(outer, high))
            if reason:
                return reason, after_unbounded
            if unbounded:
                after_unbounded = True
            elif low >= 1 and _consumes(list(sub)):
                after_unbounded = False
            continue
        if op is _c.BRANCH:
            if outer == _c.MAXREPEAT:
                return "an alternation inside a repeated group", after_unbounded
            ends = []
            for alternative in av[1]:
                reason, end = _scan(list(alternative), outer, after_unbounded)
                if reason:
                    return reason, end
                ends.append(end)
            after_unbounded = any(ends)
            continue
        for child in _subpatterns(av):  # lookarounds, atomic groups: checked, consume nothing here
            reason, _ = _scan(child, outer)
            if reason:
                return reason, after_unbounded
        if op in _CONSUMING:
            after_unbounded = False
    return None, after_unbounded


def _consumes(items: list[Any]) -> bool:
    """Whether a sequence always consumes at least one character."""
    for op, av in items:
        if op in _CONSUMING:
            return True
        if op is _c.SUBPATTERN and _consumes(list(av[-1])):
            return True
        if op in _REPEATS and av[0] >= 1 and _consumes(list(av[2])):
            return True
    return False
