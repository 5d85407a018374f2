r"""openapi-core's schema validators, compiled once: the authority on every request it checks.

Why this module exists: openapi-core rebuilds jsonschema validators and re-resolves `$ref`s on
every call (~1-4 ms per request here). `authoritative(schema)` builds openapi-core's own
`SchemaValidator` (OAS 3.1 dialect, its format checker) once, over a `$ref`-inlined schema
(`refs.inline_refs`). It decides every request the fast path (`fast_checks`) does not accept,
and produces the error list of every rejection.

Its `pattern` is strict (`strict_regex`): Python's `re.search` lets `^[A-Za-z0-9_-]+$` match
`"abc\n"` (`$` also matches before a final newline), so a trailing unescaped `$` is compiled as
`\Z`, for bodies as well as parameters. `\s`, `\d`, `\w` keep their ECMA-262 meaning
(`ecma_regex`). `STRICT_VALIDATORS` is the same factory for plain openapi-core (`reference.py`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from jsonschema_path import SchemaPath
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator

from .ecma_regex import ecma_escapes

__all__ = ["STRICT_VALIDATORS", "authoritative", "strict_regex"]


@functools.lru_cache(maxsize=512)
def strict_regex(pattern: str) -> re.Pattern[str]:
    r"""Compile a JSON Schema pattern with ECMA-262 meaning.

    A trailing unescaped `$` matches only at the very end; `\s`/`\S` are ECMA-262 white space;
    `re.ASCII` makes `\d`, `\w`, `\b` (and their negations) ASCII-only, as in ECMA-262.
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
# openapi-core's OAS 3.1 factory, with the strict pattern (it also backs `Config` in reference.py).
STRICT_VALIDATORS = SchemaValidatorsFactory(
    StrictOAS31Validator, format_checker=OAS30ReadValidator.FORMAT_CHECKER
)


def authoritative(schema: Mapping[str, Any]) -> SchemaValidator:
    """openapi-core's validator for an (inlined) schema, built once."""
    path = SchemaPath.from_dict(dict(schema))
    return STRICT_VALIDATORS.create(path, path)
