"""Local `$ref`s of the spec: inlining them, and naming the component a schema stands for.

Why this module exists: the validators are compiled from self-contained schemas (openapi-core's
and jsonschema-rs's alike), so every local `$ref` is replaced by its target once, at startup; and
a request body whose schema is `$ref: '#/components/schemas/X'` is parsed into the generated model
`durableagent_models.X`, so the route table needs the component's name before inlining.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SCHEMA_REF_PREFIX", "component_name", "inline_refs", "resolve_ref"]

SCHEMA_REF_PREFIX = "#/components/schemas/"


def resolve_ref(ref: str, root: Mapping[str, Any]) -> Any:
    """The node a local JSON pointer `ref` (`#/a/b~1c`) names inside `root`."""
    target: Any = root
    for token in ref[2:].split("/"):
        target = target[token.replace("~1", "/").replace("~0", "~")]
    return target


def inline_refs(node: Any, root: Mapping[str, Any], _seen: tuple[str, ...] = ()) -> Any:
    """A copy of `node` with every local `$ref` replaced by its target (the spec has no cycles)."""
    if isinstance(node, list):
        return [inline_refs(item, root, _seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if ref in _seen:
            raise ValueError(f"recursive $ref in the spec: {ref}")
        resolved = inline_refs(resolve_ref(ref, root), root, (*_seen, ref))
        siblings = {k: inline_refs(v, root, _seen) for k, v in node.items() if k != "$ref"}
        return {**resolved, **siblings} if siblings else resolved
    return {key: inline_refs(value, root, _seen) for key, value in node.items()}


def component_name(schema: Any) -> str | None:
    """`X` when `schema` is exactly `{"$ref": "#/components/schemas/X"}` (no siblings), else None."""
    if not isinstance(schema, dict) or set(schema) != {"$ref"}:
        return None
    ref = schema["$ref"]
    if not isinstance(ref, str) or not ref.startswith(SCHEMA_REF_PREFIX):
        return None
    name = ref[len(SCHEMA_REF_PREFIX) :]
    return name if name and "/" not in name else None
