"""The spec's paths and operations, compiled once into a route table.

Why this module exists: openapi-core's path finder walks the whole spec through `jsonschema_path`
on every request, and builds deserializers for every declared parameter, present or not. Here
each operation is compiled once: its parameters (location, required, caster, fast check,
authoritative validator) and its request body media types (fast check, authoritative validator,
and the generated model of a `$ref: '#/components/schemas/X'` body: `durableagent_models.X`).

Matching follows openapi-core's rules so both agree on which operation a URL names: a static
template wins, then templates with fewer variables, in spec order; a variable matches `[^/]*`
of the still-encoded path, and is percent-decoded afterwards (so `a%2Fb` stays one segment).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import durableagent_models
from openapi_core.validation.schemas.validators import SchemaValidator
from pydantic import BaseModel

from .authority import authoritative
from .fast_checks import Check, schema_check
from .refs import component_name, inline_refs, resolve_ref
from .spec import internal_spec

__all__ = ["HTTP_METHODS", "Body", "Operation", "Param", "Route", "compile_routes"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_INTEGER = re.compile(r"-?[0-9]{1,18}")
_NUMBER = re.compile(r"-?[0-9]{1,18}(\.[0-9]{1,18})?([eE][-+]?[0-9]{1,3})?")
_TRUE, _FALSE = frozenset({"true", "1", "yes", "y", "on"}), frozenset({"false", "0", "no", "n", "off"})


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


def _cast_integer(raw: str) -> int:
    if not _INTEGER.fullmatch(raw):
        raise ValueError("not an integer")
    return int(raw)


def _cast_number(raw: str) -> float:
    if not _NUMBER.fullmatch(raw):
        raise ValueError("not a number")
    return float(raw)


def _cast_boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise ValueError("not a boolean")


_CASTERS: dict[Any, Callable[[str], Any]] = {
    "string": str,
    None: str,
    "integer": _cast_integer,
    "number": _cast_number,
    "boolean": _cast_boolean,
}


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter: where to find it and how to check it."""

    name: str
    location: str  # "path" | "query" | "header" | "cookie"
    required: bool
    cast: Callable[[str], Any]
    fast: Check | None
    validator: SchemaValidator
    key: str  # the name in `ValidatedRequest` and in lookups (header names lower-case)


@dataclass(frozen=True, slots=True)
class Body:
    """One request media type of an operation."""

    media_type: str
    is_json: bool
    fast: Check | None
    validator: SchemaValidator | None
    model: type[BaseModel] | None = None  # the generated model of a JSON body's component schema


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of one path."""

    operation_id: str
    method: str
    template: str
    params: tuple[Param, ...]
    body_required: bool
    bodies: Mapping[str, Body] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Route:
    """One path template and its operations."""

    template: str
    regex: re.Pattern[str]
    names: tuple[str, ...]
    operations: Mapping[str, Operation]


def _compile_param(raw: Mapping[str, Any], spec: Mapping[str, Any]) -> Param:
    param = inline_refs(raw, spec)
    default_style = "form" if param["in"] in ("query", "cookie") else "simple"
    if "content" in param or param.get("style", default_style) != default_style:
        raise NotImplementedError(f"parameter {param['name']!r}: only simple/form primitives are supported")
    schema = param.get("schema", {})
    kind = schema.get("type")
    if kind not in _CASTERS:
        raise NotImplementedError(f"parameter {param['name']!r}: type {kind!r} is not supported")
    return Param(
        name=param["name"],
        location=param["in"],
        required=bool(param.get("required", False)),
        cast=_CASTERS[kind],
        fast=schema_check(schema),
        validator=authoritative(schema),
        key=param["name"].lower() if param["in"] == "header" else param["name"],
    )


def _any(_value: Any) -> bool:
    return True


def _compile_operation(
    template: str, method: str, item: Mapping[str, Any], spec: Mapping[str, Any]
) -> Operation:
    raw_op = item[method]
    merged: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*item.get("parameters", []), *raw_op.get("parameters", [])]:  # operation overrides path
        param = inline_refs(raw, spec)
        merged[(param["name"], param["in"])] = raw
    params = tuple(_compile_param(raw, spec) for raw in merged.values())
    raw_body = raw_op.get("requestBody", {})
    if isinstance(raw_body.get("$ref"), str):  # components/requestBodies, resolved without inlining
        raw_body = resolve_ref(raw_body["$ref"], spec)
    bodies: dict[str, Body] = {}
    for media_type, content in raw_body.get("content", {}).items():
        raw_schema = content.get("schema")
        schema = inline_refs(raw_schema, spec)
        is_json = media_type.lower() == "application/json" or media_type.lower().endswith("+json")
        name = component_name(raw_schema) if is_json else None
        bodies[media_type.lower()] = Body(
            media_type=media_type.lower(),
            is_json=is_json,
            fast=schema_check(schema) if schema is not None else _any,
            validator=authoritative(schema) if schema is not None else None,
            model=generated_model(name, spec) if name is not None else None,
        )
    return Operation(
        operation_id=raw_op.get("operationId", f"{method} {template}"),
        method=method,
        template=template,
        params=params,
        body_required=bool(raw_body.get("required", False)),
        bodies=bodies,
    )


def compile_routes(spec: Mapping[str, Any]) -> tuple[Route, ...]:
    """All routes of `spec`, in matching order (static first, then fewer variables, spec order)."""
    routes: list[tuple[int, int, Route]] = []
    for index, (template, item) in enumerate(spec.get("paths", {}).items()):
        parts = re.split(r"\{([^}]+)\}", template)  # literal, name, literal, name, ..., literal
        names = tuple(parts[1::2])
        pattern = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<v{i // 2}>[^/]*)" for i, part in enumerate(parts)
        )
        operations = {m: _compile_operation(template, m, item, spec) for m in HTTP_METHODS if m in item}
        # Literal segments match in any ASCII case, as the Functions host routes (agents/RUN = agents/run)
        route = Route(template, re.compile(pattern + r"\Z", re.IGNORECASE | re.ASCII), names, operations)
        routes.append((len(names), index, route))
    routes.sort(key=lambda entry: (entry[0], entry[1]))
    return tuple(route for _, _, route in routes)
