"""Cheap input limits, checked before schema validation.

Why this module exists: openapi-core and jsonschema walk every key of free-form objects, and a
caller-supplied `response_schema` is later compiled and run against the model's output. Bounding
sizes, depth, `$ref`s and regex lengths first keeps a single request from costing the server
more than it costs the caller (OWASP API4), and keeps SSRF (`$ref` to a URL) and ReDoS-sized
patterns out of the entity.

Invariants: too large → 413 `PayloadTooLarge`; too deep, too many properties, non-local or
recursive `$ref`, more than `max_schema_expanded` subschemas once every `$ref` is expanded
(schema_work: the work of validating against it), `$id`, long or catastrophically backtracking
`pattern` (regex_safety), or not a valid draft 2020-12 schema → 400 `InvalidResponseSchema`.
Errors carry JSON pointers into the request body.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import best_match

from .errors import pointer as json_pointer
from .metaschema import META_VALIDATOR
from .problems import InvalidResponseSchema, PayloadTooLarge
from .regex_safety import backtracking_risk
from .schema_work import expanded_size

__all__ = ["SCHEMA_FIELDS", "Limits", "check_response_schema"]

SCHEMA_FIELDS = ("response_schema", "response_format")
_REF_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
_PROPERTY_MAPS = ("properties", "patternProperties")


@dataclass(frozen=True, slots=True)
class Limits:
    """Input bounds. The defaults are the contract's (openapi.yaml says the same in prose)."""

    max_body_bytes: int = 64 * 1024
    max_message_chars: int = 32 * 1024
    max_schema_bytes: int = 16 * 1024
    max_schema_depth: int = 16
    max_schema_properties: int = 256
    max_schema_refs: int = 64
    max_schema_expanded: int = 8192
    max_pattern_chars: int = 1024
    max_json_depth: int = 32


class _Issue(Exception):
    def __init__(self, where: list[str | int], message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.where, self.message, self.detail = where, message, detail or message


def check_response_schema(schema: Any, limits: Limits, *, at: str = "/response_schema") -> None:
    """Check a caller-supplied JSON Schema; `at` is its JSON pointer in the request body.

    The verdict is cached by the schema's canonical serialization: callers usually send the same
    schema again and again, and the metaschema check costs ~45 µs per subschema (metaschema.py).
    """
    if not isinstance(schema, dict):
        raise InvalidResponseSchema(
            "The response schema must be a JSON object.",
            errors=[{"pointer": at, "message": "must be a JSON Schema object"}],
        )
    serialized = json.dumps(schema, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if len(serialized.encode("utf-8")) > limits.max_schema_bytes:
        raise PayloadTooLarge(
            f"The response schema is larger than {limits.max_schema_bytes} bytes serialized.",
            errors=[{"pointer": at, "message": f"larger than {limits.max_schema_bytes} bytes"}],
        )
    issue = _verdict(serialized, limits)
    if issue is not None:
        where, message, detail = issue
        raise InvalidResponseSchema(detail, errors=[{"pointer": at + where, "message": message}])


@functools.lru_cache(maxsize=256)
def _verdict(serialized: str, limits: Limits) -> tuple[str, str, str] | None:
    """(pointer, message, detail) of the first problem with a schema, or None when it is fine."""
    schema = json.loads(serialized)
    try:
        refs = _walk(schema, limits)
        targets = _check_refs(schema, refs)
        if expanded_size(schema, [loc for loc, _ in refs], targets, limits.max_schema_expanded) > (
            limits.max_schema_expanded
        ):
            raise _Issue(
                [],
                f"expands to more than {limits.max_schema_expanded} subschemas once its $refs are followed",
                "The response schema is too costly to validate against: its $refs expand to more than "
                f"{limits.max_schema_expanded} subschemas.",
            )
    except _Issue as issue:
        return json_pointer(issue.where), issue.message, issue.detail
    error = best_match(META_VALIDATOR.iter_errors(schema))
    if error is None:
        return None
    message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    detail = "The response schema is not a valid JSON Schema (draft 2020-12)."
    return json_pointer(list(error.absolute_path)), message, detail


def _walk(schema: dict[str, Any], limits: Limits) -> list[tuple[list[str | int], str]]:
    """Depth, property count, pattern length, `$id`; returns the `$ref`s as (location, target)."""
    refs: list[tuple[list[str | int], str]] = []
    properties = 0
    stack: list[tuple[Any, list[str | int]]] = [(schema, [])]
    while stack:
        node, path = stack.pop()
        if len(path) >= limits.max_schema_depth:
            raise _Issue(path, f"nests deeper than {limits.max_schema_depth} levels")
        if isinstance(node, list):
            stack.extend((item, [*path, i]) for i, item in enumerate(node) if isinstance(item, dict | list))
            continue
        for key, value in node.items():
            here = [*path, key]
            if key in _REF_KEYS and isinstance(value, str):
                refs.append((path, value))
            elif key == "$id":
                raise _Issue(here, "$id is not supported (it would move $ref resolution)")
            elif key == "pattern" and isinstance(value, str):
                _check_pattern(value, here, limits)
            elif key in _PROPERTY_MAPS and isinstance(value, dict):
                properties += len(value)
                if key == "patternProperties":
                    for pattern in value:
                        _check_pattern(pattern, here, limits)
            if isinstance(value, dict | list):
                stack.append((value, here))
    if properties > limits.max_schema_properties:
        raise _Issue([], f"defines more than {limits.max_schema_properties} properties in total")
    if len(refs) > limits.max_schema_refs:
        raise _Issue([], f"has more than {limits.max_schema_refs} $refs")
    return refs


def _check_pattern(pattern: str, where: list[str | int], limits: Limits) -> None:
    """Long patterns and patterns that could backtrack catastrophically (regex_safety) are refused."""
    if len(pattern) > limits.max_pattern_chars:
        raise _Issue(where, f"pattern longer than {limits.max_pattern_chars} characters")
    risk = backtracking_risk(pattern)
    if risk is not None:
        raise _Issue(
            where,
            f"pattern has {risk} (it could take exponential time to match)",
            "The response schema has a regular expression that could take exponential time to match.",
        )


def _resolve(schema: dict[str, Any], ref: str) -> list[str | int] | None:
    """Path of a local `#` / `#/a/b` reference inside `schema`, or None when it does not resolve."""
    node: Any = schema
    path: list[str | int] = []
    for raw in ref[2:].split("/") if ref != "#" else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node, path = node[token], [*path, token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node, path = node[int(token)], [*path, int(token)]
        else:
            return None
    return path if isinstance(node, dict | bool) else None


def _check_refs(schema: dict[str, Any], refs: list[tuple[list[str | int], str]]) -> list[list[str | int]]:
    """Only local JSON-pointer refs that resolve, and no cycles; returns each ref's target path."""
    targets: list[list[str | int]] = []
    for location, ref in refs:
        if not (ref == "#" or ref.startswith("#/")):
            raise _Issue(
                location,
                "only local JSON-pointer $refs (#/...) are allowed",
                "The response schema has a remote $ref.",
            )
        target = _resolve(schema, ref)
        if target is None:
            raise _Issue(location, "$ref does not resolve inside the schema")
        targets.append(target)
    # Edge i → j when ref j sits inside the subschema ref i points to; any cycle is a recursive $ref.
    inside = [[j for j, (loc, _) in enumerate(refs) if loc[: len(t)] == t] for t in targets]
    state = [0] * len(refs)  # 0 new, 1 on the DFS stack, 2 done
    for start in range(len(refs)):
        if state[start]:
            continue
        state[start] = 1
        stack = [(start, iter(inside[start]))]
        while stack:
            node, edges = stack[-1]
            nxt = next(edges, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state[nxt] == 1:
                raise _Issue(refs[nxt][0], "recursive $ref", "The response schema has a recursive $ref.")
            elif state[nxt] == 0:
                state[nxt] = 1
                stack.append((nxt, iter(inside[nxt])))
    return targets
