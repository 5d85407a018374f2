"""A request body: bounded, read as its generated model, and checked against its schema.

Why this module exists: it is the one place that decides a body.

* Bounds first (cheap, before any schema walk): the raw size (413), and the content checks of an
  operation (``CONTENT_CHECKS``: a run's message length, 413, and its ``response_schema``, vetted by
  ``limits.check_response_schema``).
* The fast path accepts when the jsonschema-rs check of the spec's schema (``fast_checks``) accepts
  and, for a JSON body with a generated model, the strict parse into that model succeeds. Anything
  else goes to openapi-core (``authority``), which decides: its rejection is the 400 with its error
  list; its acceptance stands, and the model is then built from the accepted body
  (:func:`after_authority`). So the fast path can only make accepting cheaper, never accept what
  openapi-core rejects.

Models: a body schema ``$ref: '#/components/schemas/X'`` names ``durableagent_models.X`` (written
by scripts/generate from openapi.yaml), used only when the spec being validated has the very schema
the models were generated from (:func:`generated_model`), so a model never stands for another
schema. Parsing is strict (``strict=True`` on the parsed JSON: "1" is not an int, 1 is not a bool).
The model alone never accepts a body (it is not a faithful copy of the schema: datamodel-codegen
drops ``not``, and pydantic's regex is Rust's, see ``fast_checks``). When the strict parse fails but
openapi-core accepts the body (``1.0`` for an integer), :func:`after_authority` parses it lax;
should even that fail (ruled out for the shipped spec by the agreement tests), the model is made
with ``model_construct`` from the accepted JSON's declared fields, and the event is logged with the
model's name only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import durableagent_models
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_core.validation.schemas.validators import SchemaValidator
from pydantic import BaseModel, RootModel, ValidationError

from .errors import error_list, summary
from .limits import SCHEMA_FIELDS, Limits, check_response_schema
from .problems import InvalidRequest, PayloadTooLarge
from .refs import inline_refs
from .spec import internal_spec

if TYPE_CHECKING:
    from .routing import Body

__all__ = [
    "CONTENT_CHECKS",
    "after_authority",
    "authority_errors",
    "check_body",
    "check_run_body",
    "check_size",
    "generated_model",
    "parse_strict",
]

_log = logging.getLogger(__name__)


def check_size(raw: bytes, limits: Limits) -> None:
    """413 when the raw body is larger than ``limits.max_body_bytes``."""
    if len(raw) > limits.max_body_bytes:
        raise PayloadTooLarge(f"The body is larger than {limits.max_body_bytes} bytes.")


def _check_message(message: str, at: str, limits: Limits) -> None:
    if len(message) > limits.max_message_chars:
        raise PayloadTooLarge(
            f"The message is longer than {limits.max_message_chars} characters.",
            errors=[{"pointer": at, "message": f"longer than {limits.max_message_chars} characters"}],
        )


def check_run_body(body: Any, limits: Limits) -> None:
    """Bounds of a ``runAgent`` body (a parsed JSON object, or the text/plain message itself)."""
    if isinstance(body, str):
        _check_message(body, "", limits)
        return
    if not isinstance(body, dict):
        return  # the schema check reports the wrong type
    message = body.get("message")
    if isinstance(message, str):
        _check_message(message, "/message", limits)
    for field in SCHEMA_FIELDS:
        if field in body and body[field] is not None:
            check_response_schema(body[field], limits, at="/" + field)


CONTENT_CHECKS: dict[str, Callable[[Any, Limits], None]] = {"runAgent": check_run_body}
"""Content checks per operationId, run on the parsed body before schema validation."""


def _component(spec: Mapping[str, Any], name: str) -> Any:
    schemas = spec.get("components", {}).get("schemas", {})
    return inline_refs(schemas[name], spec) if name in schemas else None


def generated_model(name: str, spec: Mapping[str, Any]) -> type[BaseModel] | None:
    """`durableagent_models.<name>` when `spec`'s schema `name` is the one it was generated from."""
    model = getattr(durableagent_models, name, None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    theirs = _component(spec, name)
    if theirs is None or theirs != _component(internal_spec(), name):
        return None
    return model


def parse_strict(model: type[BaseModel], value: Any) -> BaseModel | None:
    """`value` (parsed JSON) as `model`, in pydantic's strict mode; None when it does not fit."""
    try:
        return model.model_validate(value, strict=True)
    except ValidationError:
        return None


def after_authority(model: type[BaseModel], value: Any) -> BaseModel | None:
    """`value`, which openapi-core accepted, as `model` (see the module docstring)."""
    try:
        return model.model_validate(value)
    except ValidationError:
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


def fast_accepts(check: Callable[[Any], bool] | None, value: Any) -> bool:
    """Whether a fast check (jsonschema-rs' ``is_valid``) accepts ``value`` (no verdict: False)."""
    if check is None:
        return False
    try:
        return check(value)
    except ValueError:  # not representable as JSON (a str with a lone surrogate): no verdict
        return False


def check_body(spec: Body, body: Any) -> BaseModel | None:
    """Accept ``body`` (parsed JSON or text) or raise ``InvalidRequest``; return its model, if any."""
    model = parse_strict(spec.model, body) if spec.model is not None else None
    fast = (spec.model is None or model is not None) and fast_accepts(spec.fast, body)
    if not fast and spec.validator is not None:
        errors = authority_errors(spec.validator, body)
        if errors:
            raise InvalidRequest(summary(errors), errors=errors)
    if spec.model is not None and model is None:
        model = after_authority(spec.model, body)
    return model
