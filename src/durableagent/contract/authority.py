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

Also here, what follows its verdict on a body the fast path did not accept: the error list of a
rejection (`authority_errors`) and the generated model of an acceptance (`after_authority`: the
strict parse failed but openapi-core accepts, as for `1.0` where an integer is due; parsed lax,
else built with `model_construct` from the declared fields, logged with the model's name only).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from jsonschema_path import SchemaPath
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator
from pydantic import BaseModel, RootModel
from pydantic import ValidationError as ModelError

from .ecma_regex import ecma_escapes
from .errors import error_list

__all__ = ["STRICT_VALIDATORS", "after_authority", "authoritative", "authority_errors", "strict_regex"]

_log = logging.getLogger(__name__)


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


def after_authority(model: type[BaseModel], value: Any) -> BaseModel | None:
    """`value`, which openapi-core accepted, as `model` (see the module docstring)."""
    try:
        return model.model_validate(value)
    except ModelError:
        _log.warning("openapi-core accepted a body that the generated model %s refuses", model.__name__)
    if issubclass(model, RootModel):
        return model.model_construct(value)
    if isinstance(value, dict):
        return model.model_construct(**{k: v for k, v in value.items() if k in model.model_fields})
    return None


def authority_errors(validator: SchemaValidator, value: Any) -> list[dict[str, str]]:
    """openapi-core's verdict on ``value``: [] when it accepts, else the ``[{pointer, message}]`` list."""
    try:
        validator.validate(value)
    except InvalidSchemaValue as exc:
        return error_list(exc.schema_errors) or [{"pointer": "", "message": "does not match the schema"}]
    return []
