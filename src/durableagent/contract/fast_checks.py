r"""The fast accept path: jsonschema-rs validators compiled once per schema of the spec.

Why this module exists: openapi-core (`authority`) costs ~100 µs per body; the fast path answers
in well under a microsecond, and may only say "valid" when openapi-core would (everything it
does not accept goes to openapi-core, which decides). `schema_check(schema)` compiles one
jsonschema-rs validator (draft 2020-12, Rust `regex` engine: linear time, `$` is the end of
input) from the spec's own, `$ref`-inlined schema: for parameters, `text/plain` bodies, and as
the contract check beside the generated model of a JSON body (`request_body`).

Why jsonschema-rs and not the generated pydantic models alone (measured with the spec's schemas,
on the reference machine, best of 5x20000): jsonschema-rs takes 0.15 µs for a `SessionId`
parameter where `TypeAdapter(SessionId)` (strict) takes 0.54 µs, and 0.30 µs for the benchmark's
RunRequest body. And the generated models are not a faithful copy of the contract:
datamodel-codegen drops `not` (the models accept the reserved session id `run`), and pydantic
runs patterns with Rust's Unicode `\d`, `\w`, `\s`, where JSON Schema means ECMA-262's.
jsonschema-rs reads the schema itself, so nothing is lost in translation.

What stays with openapi-core (`schema_check` returns None, so every value goes to the authority):
schemas using `format` (openapi-core's format checker is the only judge of formats, e.g. `int32`),
`discriminator` (OAS semantics jsonschema-rs does not know), `$schema`, `patternProperties`, or a
`pattern` outside the syntax that Python `re` (the authority's engine) and Rust `regex` read
alike (`portable_pattern`); and any schema jsonschema-rs cannot compile offline (remote `$ref`s
are never fetched).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema_rs

__all__ = ["Check", "portable_pattern", "schema_check"]

Check = Callable[[Any], bool]

# The regex syntax Python `re` and Rust `regex` read alike, and that jsonschema-rs passes on as it
# is: literal characters, the escapes \t \n \v \f \r \uXXXX and escaped punctuation, bracket
# classes of those (no nested `[`, so no POSIX `[[:alpha:]]`, and no doubled `&&` `--` `~~` `||`,
# which are set operations in Rust), `.`, `^`, `$`, `|`, plain groups (no `(?` extensions) and
# the quantifiers * + ? {m} {m,} {m,n}, lazy or not. Not `\d`, `\w`, `\s`, `\b` or `\p{..}`,
# whose meaning differs between the engines.
_ESCAPE = r"\\[tnvfr]|\\u[0-9A-Fa-f]{4}|\\[-\\.^$|?*+()\[\]{}/]"
_LITERAL = r"[^\\\[\](){}|.*+?^$]"
_CLASS = rf"\[\^?(?:{_ESCAPE}|[^\\\[\]&~|-]|([&~|-])(?!\1))+\]"
_QUANTIFIER = r"(?:[*+?]|\{[0-9]+(?:,[0-9]*)?\})\??"
_PORTABLE = re.compile(rf"(?:{_LITERAL}|{_ESCAPE}|{_CLASS}|\((?!\?)|\)|[|.^$]|{_QUANTIFIER})*")

# Keywords whose value maps names to subschemas: the names are data, not keywords.
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "dependentSchemas"})
# openapi-core's own readings (its format checker; `discriminator`, which changes what allOf/anyOf/
# oneOf mean in the OAS dialect), a dialect switch, and patterns used as property names.
_AUTHORITY_ONLY = frozenset({"format", "discriminator", "$schema", "patternProperties"})


def portable_pattern(pattern: str) -> bool:
    """Whether `pattern` uses only syntax that Python `re` and Rust `regex` read alike."""
    return _PORTABLE.fullmatch(pattern) is not None


def _fast_checkable(node: Any) -> bool:
    """Whether nothing in `node` is left to openapi-core alone (see the module docstring)."""
    if isinstance(node, list):
        return all(_fast_checkable(item) for item in node)
    if not isinstance(node, dict):
        return True
    for key, value in node.items():
        if key in _AUTHORITY_ONLY:
            return False
        if key == "pattern" and not (isinstance(value, str) and portable_pattern(value)):
            return False
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            if not all(_fast_checkable(sub) for sub in value.values()):
                return False
        elif key not in ("enum", "const", "default", "examples", "example") and not _fast_checkable(value):
            return False
    return True


def schema_check(schema: Any) -> Check | None:
    """A predicate that is True only for values openapi-core accepts (None: leave all to it)."""
    if not _fast_checkable(schema):
        return None
    try:
        validator = jsonschema_rs.Draft202012Validator(
            schema,
            validate_formats=True,
            ignore_unknown_formats=False,
            pattern_options=jsonschema_rs.RegexOptions(),
            offline=True,
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError):
        return None
    # The bound method itself (a call into Rust, no Python frame); callers treat its ValueError (a str
    # with a lone surrogate, not representable as JSON) as "no verdict": ``request_body.fast_accepts``.
    check: Check = validator.is_valid
    return check
