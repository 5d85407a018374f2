"""Structured output: the value of an agent's reply, checked against the caller's response schema.

The framework parses a reply made under ``response_format`` into ``response.value`` (a dict for a
JSON Schema, a model instance for a pydantic class); a reply that is not JSON has no value. The
caller's schema (already vetted by ``contract.limits``: size, depth, local refs, safe patterns)
decides; a mismatch is a ``422 structured-output-invalid``, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from durableagent.contract.problems import Problem, StructuredOutputInvalid


def parse_value(response: Any) -> Any:
    """The reply's structured value as plain JSON data, or None when the reply is not JSON."""
    value = getattr(response, "value", None)
    if value is None:
        try:
            value = json.loads(response.text)
        except ValueError:
            return None
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def check_structured(value: Any, schema: Any) -> tuple[Any, Problem | None]:
    """``(value, None)`` when ``value`` matches ``schema``, else ``(None, 422 problem)``."""
    try:
        jsonschema.Draft202012Validator(schema).validate(value)
    except jsonschema.ValidationError:
        return None, StructuredOutputInvalid(
            "The agent's reply does not match the requested response_schema."
        )
    return value, None
