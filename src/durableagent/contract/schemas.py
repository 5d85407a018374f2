"""The spec's JSON Schemas, compiled once: openapi-core validators plus a fast accept-check.

Why this module exists: openapi-core rebuilds jsonschema validators and re-resolves `$ref`s on
every call (~1-4 ms per request here). This module builds, once per schema:

* `authoritative(schema)`: openapi-core's own `SchemaValidator` (OAS 3.1 dialect, its format
  checker), over a `$ref`-inlined copy of the spec's schema. It decides every rejection and
  produces the error list.
* `compile_check(schema)`: a closure-compiled predicate for the keyword subset the request
  schemas use (type, enum/const of strings, not, properties/required/additionalProperties, lengths,
  pattern, numeric bounds, items). It may only say "valid" when the authoritative validator
  would; anything outside the subset compiles to `None` and the authoritative validator runs.

Both use the same strict `pattern`: Python's `re.search` lets `^[A-Za-z0-9_-]+$` match
`"abc\\n"` (`$` also matches before a final newline), so a trailing unescaped `$` is compiled as
`\\Z`. That applies to bodies as well as parameters. `\\s`, `\\d`, `\\w` keep their ECMA-262
meaning (`ecma_regex`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from jsonschema_path import SchemaPath
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator

from .ecma_regex import ecma_escapes

__all__ = ["STRICT_VALIDATORS", "Check", "authoritative", "compile_check", "inline_refs", "strict_regex"]

Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset({"description", "title", "default", "deprecated", "example", "examples", "$comment"})


@functools.lru_cache(maxsize=512)
def strict_regex(pattern: str) -> re.Pattern[str]:
    """Compile a JSON Schema pattern with ECMA-262 meaning.

    A trailing unescaped `$` matches only at the very end; `\\s`/`\\S` are ECMA-262 white space;
    `re.ASCII` makes `\\d`, `\\w`, `\\b` (and their negations) ASCII-only, as in ECMA-262.
    """
    if pattern.endswith("$"):
        backslashes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
        if backslashes % 2 == 0:
            pattern = pattern[:-1] + r"\Z"
    return re.compile(ecma_escapes(pattern), re.ASCII)


def _strict_pattern(
    validator: Any, patrn: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not strict_regex(patrn).search(instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")


StrictOAS31Validator = extend(  # type: ignore[no-untyped-call]  # types-jsonschema leaves extend() untyped
    OAS31Validator, {"pattern": _strict_pattern}
)
# openapi-core's OAS 3.1 factory, with the strict pattern (it also backs `Config` in validate.py).
STRICT_VALIDATORS = SchemaValidatorsFactory(
    StrictOAS31Validator, format_checker=OAS30ReadValidator.FORMAT_CHECKER
)


def inline_refs(node: Any, root: Mapping[str, Any], _seen: tuple[str, ...] = ()) -> Any:
    """A copy of `node` with every local `$ref` replaced by its target (the spec has no cycles)."""
    if isinstance(node, list):
        return [inline_refs(item, root, _seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if ref in _seen:
            raise ValueError(f"recursive $ref in the spec: {ref}")
        target: Any = root
        for token in ref[2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        resolved = inline_refs(target, root, (*_seen, ref))
        siblings = {k: inline_refs(v, root, _seen) for k, v in node.items() if k != "$ref"}
        return {**resolved, **siblings} if siblings else resolved
    return {key: inline_refs(value, root, _seen) for key, value in node.items()}


def authoritative(schema: Mapping[str, Any]) -> SchemaValidator:
    """openapi-core's validator for an (inlined) schema, built once."""
    path = SchemaPath.from_dict(dict(schema))
    return STRICT_VALIDATORS.create(path, path)


_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())
    ),
    "number": lambda x: isinstance(x, int | float) and not isinstance(x, bool),
}
_NUMBER = _TYPES["number"]


def compile_check(schema: Any) -> Check | None:
    """A fast predicate equivalent to (or stricter than) the authoritative validator, or None."""
    if schema is True or schema == {}:
        return lambda _: True
    if not isinstance(schema, dict):
        return None
    checks: list[Check] = []
    for key, value in schema.items():
        check = _keyword(key, value, schema)
        if check is _UNSUPPORTED:
            return None
        if check is not None:
            checks.append(check)
    if len(checks) == 1:
        return checks[0]
    return _all_of(tuple(checks))


def _properties(checks: dict[str, Check]) -> Check:
    def check_properties(value: Any) -> bool:
        if isinstance(value, dict):
            for name, item in value.items():  # the instance is small; the schema may list more
                check = checks.get(name)
                if check is not None and not check(item):
                    return False
        return True

    return check_properties


def _all_of(checks: tuple[Check, ...]) -> Check:
    def check_all(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop is measurably cheaper than all(<genexpr>)
            if not check(value):
                return False
        return True

    return check_all


def _unsupported(_: Any) -> bool:  # pragma: no cover - a marker, never called
    return False


_UNSUPPORTED: Check = _unsupported


def _keyword(key: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
    if key in _ANNOTATIONS:
        return None
    if key == "type":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or any(n not in _TYPES for n in names):
            return _UNSUPPORTED
        tests = [_TYPES[n] for n in names]
        return tests[0] if len(tests) == 1 else (lambda x: any(t(x) for t in tests))
    if key in ("enum", "const"):
        options = value if key == "enum" else [value]
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            return _UNSUPPORTED
        allowed = frozenset(options)
        return lambda x: isinstance(x, str) and x in allowed
    if key in ("minLength", "maxLength") and isinstance(value, int):
        return (
            (lambda x: not isinstance(x, str) or len(x) >= value)
            if key == "minLength"
            else (lambda x: not isinstance(x, str) or len(x) <= value)
        )
    if key == "pattern" and isinstance(value, str):
        search = strict_regex(value).search
        return lambda x: not isinstance(x, str) or search(x) is not None
    if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") and _NUMBER(value):
        bound = value
        return {
            "minimum": lambda x: not _NUMBER(x) or x >= bound,
            "maximum": lambda x: not _NUMBER(x) or x <= bound,
            "exclusiveMinimum": lambda x: not _NUMBER(x) or x > bound,
            "exclusiveMaximum": lambda x: not _NUMBER(x) or x < bound,
        }[key]
    if key in ("minProperties", "maxProperties", "minItems", "maxItems") and isinstance(value, int):
        kind = dict if key.endswith("Properties") else list
        if key.startswith("min"):
            return lambda x: not isinstance(x, kind) or len(x) >= value
        return lambda x: not isinstance(x, kind) or len(x) <= value
    if key == "required" and isinstance(value, list):
        needed = tuple(value)
        return lambda x: not isinstance(x, dict) or all(name in x for name in needed)
    if key == "properties" and isinstance(value, dict):
        compiled = {name: compile_check(sub) for name, sub in value.items()}
        if any(c is None for c in compiled.values()):
            return _UNSUPPORTED
        return _properties({name: c for name, c in compiled.items() if c is not None})
    if key == "additionalProperties":
        if "patternProperties" in schema:
            return _UNSUPPORTED
        known = frozenset(schema.get("properties", {}))
        if value is False:
            return lambda x: not isinstance(x, dict) or known.issuperset(x)
        extra = compile_check(value)
        if extra is None:
            return _UNSUPPORTED
        return lambda x: not isinstance(x, dict) or all(extra(v) for k, v in x.items() if k not in known)
    if key == "not":
        # Only exact sub-checks may be negated (a stricter one would turn into a looser one).
        if not isinstance(value, dict) or not set(value) <= {"const", "enum"}:
            return _UNSUPPORTED
        excluded = compile_check(value)
        if excluded is None:
            return _UNSUPPORTED
        return lambda x: not excluded(x)
    if key == "items":
        item = compile_check(value)
        if item is None:
            return _UNSUPPORTED
        return lambda x: not isinstance(x, list) or all(item(v) for v in x)
    return _UNSUPPORTED
