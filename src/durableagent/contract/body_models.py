"""The generated pydantic models of JSON request bodies: which model a body is, and parsing it.

Why this module exists: routes read a JSON body as its generated model (`ValidatedRequest.model`),
never as a loose dict. A body schema `$ref: '#/components/schemas/X'` names the model
`durableagent_models.X` (written by scripts/generate from openapi.yaml). It is used only when the
spec being validated has the very schema the models were generated from (the shipped
openapi.yaml, whatever the route prefix), so a model never stands for another schema.

Parsing is strict (`strict=True` on the parsed JSON: "1" is not an int, 1 is not a bool), as the
schema is. The model alone never accepts a body (it is not a faithful copy of the schema, see
`fast_checks`): jsonschema-rs or openapi-core decides, and the model is what the route reads.
When the strict parse fails but openapi-core accepts the body (the schema is laxer than pydantic's
strict mode, e.g. `1.0` for an integer), `after_authority` parses it lax (`model_validate`).
Should even that fail (a model stricter than the contract: the agreement tests rule that out for
the shipped spec), the model is made with `model_construct` from the accepted JSON's declared
fields, unvalidated, and the event is logged with the model's name only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import durableagent_models
from pydantic import BaseModel, RootModel, ValidationError

from .refs import inline_refs
from .spec import internal_spec

__all__ = ["after_authority", "generated_model", "parse_strict"]

_log = logging.getLogger(__name__)


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
