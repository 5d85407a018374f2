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


MAX_ITEMS = 64  # the offline model's caps: what it generates is bounded whatever the schema asks
MAX_STRING = 4096
MAX_VALUES = 4096


def sample_from_schema(schema: Mapping[str, Any], text: str) -> Any:
    """A value that satisfies simple JSON Schemas, with strings taken from ``text``.

    Bounded: at most ``MAX_ITEMS`` items per array, ``MAX_STRING`` characters per string and
    ``MAX_VALUES`` values in all (past that, ``null``), 12 levels deep; a schema asking for more
    (``minItems: 3000000``) gets a reply that does not match it, not unbounded work.
    """
    return _Sampler(text).sample(schema, 0)


class _Sampler:
    def __init__(self, text: str) -> None:
        self.text = text
        self.left = MAX_VALUES

    def sample(self, schema: Mapping[str, Any], depth: int) -> Any:
        self.left -= 1
        if depth > 12 or self.left < 0:
            return None
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf", "allOf"):
            options = schema.get(key)
            if isinstance(options, list) and options and isinstance(options[0], Mapping):
                return self.sample(options[0], depth + 1)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            props: Mapping[str, Any] = schema.get("properties") or {}
            return {k: self.sample(v if isinstance(v, Mapping) else {}, depth + 1) for k, v in props.items()}
        if kind == "array":
            items = schema.get("items")
            count = _count(schema.get("minItems"), MAX_ITEMS)
            return [self.sample(items if isinstance(items, Mapping) else {}, depth + 1) for _ in range(count)]
        return self.scalar(schema, kind)

    def scalar(self, schema: Mapping[str, Any], kind: Any) -> Any:
        if kind in ("number", "integer"):
            numbers = _NUMBER.findall(self.text)
            number = float(numbers[0]) if numbers else float(schema.get("minimum", 0) or 0)
            return int(number) if kind == "integer" else number
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        place = _PLACE.search(self.text)
        value = place.group(1) if place else self.text.strip()
        value = value.ljust(_count(schema.get("minLength"), MAX_STRING), "x")[:MAX_STRING]
        max_length = schema.get("maxLength")
        return value[: int(max_length)] if isinstance(max_length, int) else value


def _count(value: Any, cap: int) -> int:
    return int(min(value, cap)) if isinstance(value, int | float) and value > 0 else 0
