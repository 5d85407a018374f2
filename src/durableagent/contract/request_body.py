"""A parsed request body checked against its media type's schema, and read as its model.

Why this module exists: it is the one place that decides a body. The fast path accepts when the
jsonschema-rs check of the spec's schema (`fast_checks`) accepts and, for a JSON body with a
generated model, the strict parse into that model (`body_models.parse_strict`) succeeds. Anything
else goes to openapi-core (`authority`), which decides: its rejection is the 400 with its error
list; its acceptance stands, and the model is then built from the accepted body
(`body_models.after_authority`). So the fast path can only make accepting cheaper, never
accept what openapi-core rejects.
"""

from __future__ import annotations

from typing import Any

from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_core.validation.schemas.validators import SchemaValidator
from pydantic import BaseModel

from .body_models import after_authority, parse_strict
from .errors import error_list, summary
from .problems import InvalidRequest
from .routing import Body

__all__ = ["authority_errors", "check_body"]


def authority_errors(validator: SchemaValidator, value: Any) -> list[dict[str, str]]:
    """openapi-core's verdict on `value`: [] when it accepts, else the `[{pointer, message}]` list."""
    try:
        validator.validate(value)
    except InvalidSchemaValue as exc:
        return error_list(exc.schema_errors) or [{"pointer": "", "message": "does not match the schema"}]
    return []


def check_body(spec: Body, body: Any) -> BaseModel | None:
    """Accept `body` (parsed JSON or text) or raise `InvalidRequest`; return its model, if any."""
    model = parse_strict(spec.model, body) if spec.model is not None else None
    fast = spec.fast is not None and spec.fast(body) and (spec.model is None or model is not None)
    if not fast and spec.validator is not None:
        errors = authority_errors(spec.validator, body)
        if errors:
            raise InvalidRequest(summary(errors), errors=errors)
    if spec.model is not None and model is None:
        model = after_authority(spec.model, body)
    return model
