"""The offline model's rules: when to call a tool, how to fill its arguments, how to fill a schema.

Kept apart from the client so the rules can be read (and tested) on their own; see
``offline_model`` for what the offline model is and is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_IGNORED_NAME_WORDS = {"get", "set", "the", "for", "and", "tool", "fetch", "run", "do"}
_PLACE = re.compile(r"\b(?:in|for|at|of|about)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")
_QUOTED = re.compile(r"['\"]([^'\"]{1,200})['\"]")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _tool_name(tool: Any) -> str:
    return str(getattr(tool, "name", "") or "")


def _tool_schema(tool: Any) -> Mapping[str, Any]:
    parameters = getattr(tool, "parameters", None)
    schema = parameters() if callable(parameters) else parameters
    return schema if isinstance(schema, Mapping) else {}


def plan_tool_call(
    text: str, tools: Sequence[Any], forced: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The (tool name, arguments) the offline model calls for ``text``, or None to answer directly."""
    lowered = text.lower()
    for tool in tools:
        name = _tool_name(tool)
        if not name:
            continue
        words = [w for w in re.split(r"[_\W]+", name.lower()) if len(w) >= 3 and w not in _IGNORED_NAME_WORDS]
        if name == forced or (
            forced is None and any(re.search(rf"\b{re.escape(w)}", lowered) for w in words)
        ):
            return name, fill_arguments(text, _tool_schema(tool))
    return None


def fill_arguments(text: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for a tool's JSON schema, taken from ``text`` (places, quoted strings, numbers)."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    numbers = [float(n) for n in _NUMBER.findall(text)]
    place = _PLACE.search(text)
    quoted = _QUOTED.search(text)
    arguments: dict[str, Any] = {}
    for key, prop in properties.items():
        kind = prop.get("type") if isinstance(prop, Mapping) else None
        if kind in ("number", "integer"):
            value: Any = numbers.pop(0) if numbers else 0
            arguments[key] = int(value) if kind == "integer" else value
        elif kind == "boolean":
            arguments[key] = True
        elif kind == "string" or kind is None:
            if place is not None:
                arguments[key] = place.group(1)
            elif quoted is not None:
                arguments[key] = quoted.group(1)
            else:
                arguments[key] = text.strip()[:200]
    return arguments


def schema_of(response_format: Any) -> Mapping[str, Any] | None:
    """The JSON Schema behind a ``response_format`` (a schema dict or a pydantic model class)."""
    if response_format is None:
        return None
    if isinstance(response_format, Mapping):
        inner = response_format.get("json_schema")
        schema = inner.get("schema") if isinstance(inner, Mapping) else None
        if isinstance(schema, Mapping):
            return schema  # OpenAI's {"type": "json_schema", "json_schema": {...}} envelope
        return response_format
    model_json_schema = getattr(response_format, "model_json_schema", None)
    if callable(model_json_schema):
        schema = model_json_schema()
        return schema if isinstance(schema, Mapping) else None
    return None


def sample_from_schema(schema: Mapping[str, Any], text: str, depth: int = 0) -> Any:
    """A value that satisfies simple JSON Schemas, with strings taken from ``text``."""
    if depth > 12:
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and isinstance(options[0], Mapping):
            return sample_from_schema(options[0], text, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props: Mapping[str, Any] = schema.get("properties") or {}
        return {
            k: sample_from_schema(v if isinstance(v, Mapping) else {}, text, depth + 1)
            for k, v in props.items()
        }
    if kind == "array":
        items = schema.get("items")
        count = int(schema.get("minItems", 0) or 0)
        return [
            sample_from_schema(items if isinstance(items, Mapping) else {}, text, depth + 1)
            for _ in range(count)
        ]
    if kind in ("number", "integer"):
        numbers = _NUMBER.findall(text)
        number = float(numbers[0]) if numbers else float(schema.get("minimum", 0) or 0)
        return int(number) if kind == "integer" else number
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    place = _PLACE.search(text)
    value = place.group(1) if place else text.strip()
    min_length = int(schema.get("minLength", 0) or 0)
    max_length = schema.get("maxLength")
    value = value.ljust(min_length, "x")
    return value[: int(max_length)] if isinstance(max_length, int) else value
