"""Plain openapi-core over the spec: the reference the fast validator is measured against.

Why this module exists: `ContractValidator` (validate.py) answers from compiled routes and
schemas; this module runs openapi-core's own `validate_request` / `validate_response`, with the
same strict `pattern` and `application/problem+json` registered as JSON (openapi-core does not
treat it as JSON, so every problem response would otherwise fail response validation). Tests use
it as the oracle and to check responses; the benchmark uses it as the baseline. It is never on
the request path: each call costs milliseconds.

`problem_from_openapi_error` maps openapi-core's errors to the contract's Problems:
`PathNotFound` 404, `OperationNotFound` 405, a `MediaTypeNotFound` cause 415, else 400 with
pointers taken from the error in the cause chain that carries `schema_errors`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.protocols import Request
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import OperationNotFound, PathError
from openapi_core.validation.request.exceptions import ParameterValidationError
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from .authority import STRICT_VALIDATORS
from .errors import error_list, summary
from .problems import InvalidRequest, MethodNotAllowed, NotFound, Problem, UnsupportedMediaType

__all__ = ["build_openapi", "problem_from_openapi_error", "reference_validate"]


def build_openapi(spec: Mapping[str, Any]) -> OpenAPI:
    """openapi-core's `OpenAPI` for `spec` (strict patterns, problem+json deserializer)."""
    config = Config(
        extra_media_type_deserializers={"application/problem+json": json.loads},
        schema_validators_factory=STRICT_VALIDATORS,
    )
    return OpenAPI.from_dict(dict(spec), config=config)


def reference_validate(api: OpenAPI, request: Request, allowed: Callable[[str], Iterable[str]]) -> None:
    """`api.validate_request(request)`, raising the mapped Problem; `allowed(path)` lists methods."""
    try:
        with warnings.catch_warnings():  # openapi-core warns on every use of a deprecated parameter
            warnings.simplefilter("ignore", DeprecationWarning)
            api.validate_request(request)
    except OpenAPIError as exc:
        allow = allowed(request.path) if isinstance(exc, OperationNotFound) else ()
        raise problem_from_openapi_error(exc, allow) from None


def problem_from_openapi_error(exc: BaseException, allow: Iterable[str] = ()) -> Problem:
    """The Problem for an openapi-core validation error (see the module docstring)."""
    if isinstance(exc, OperationNotFound):
        return MethodNotAllowed(allow=allow)
    if isinstance(exc, PathError):
        return NotFound("No such route.")
    base = ""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ParameterValidationError) and not base:
            name = cause.name.lower() if cause.location == "header" else cause.name
            base = f"#/{cause.location}/{name}"
        if isinstance(cause, MediaTypeNotFound):
            return UnsupportedMediaType()
        if isinstance(cause, InvalidSchemaValue):
            errors = error_list(cause.schema_errors)
            if base:
                errors = [{"pointer": base, "message": e["message"]} for e in errors]
            return InvalidRequest(summary(errors), errors=errors)
        cause = cause.__cause__
    errors = [{"pointer": base, "message": str(exc)[:200]}] if base else []
    return InvalidRequest(summary(errors), errors=errors)
