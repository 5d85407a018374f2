"""Input limits: 413 for size; 400 for depth, counts, remote or recursive $ref and invalid schemas."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from durableagent.contract.limits import Limits, check_response_schema
from durableagent.contract.problems import InvalidResponseSchema, PayloadTooLarge
from durableagent.contract.request_body import check_run_body as check_run_request
from durableagent.contract.request_body import check_size as check_body_size

LIMITS = Limits()


def nested_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def test_defaults_are_the_contract() -> None:
    assert (LIMITS.max_body_bytes, LIMITS.max_message_chars, LIMITS.max_schema_bytes) == (65536, 32768, 16384)
    assert (LIMITS.max_schema_depth, LIMITS.max_schema_properties, LIMITS.max_pattern_chars) == (
        16,
        256,
        1024,
    )


def test_body_size() -> None:
    check_body_size(b"x" * 65536, LIMITS)
    with pytest.raises(PayloadTooLarge):
        check_body_size(b"x" * 65537, LIMITS)
    with pytest.raises(PayloadTooLarge):
        check_body_size(b"x" * 11, Limits(max_body_bytes=10))


def test_message_size_json_and_text() -> None:
    check_run_request({"message": "A" * 32768}, LIMITS)
    with pytest.raises(PayloadTooLarge) as caught:
        check_run_request({"message": "A" * 32769}, LIMITS)
    assert caught.value.errors[0]["pointer"] == "/message"
    with pytest.raises(PayloadTooLarge):
        check_run_request("A" * 32769, LIMITS)
    check_run_request({"message": 12}, LIMITS)  # wrong types are the schema's business
    check_run_request(["not", "an", "object"], LIMITS)


def test_schema_size_is_413() -> None:
    big = {"type": "object", "description": "x" * 16384}
    with pytest.raises(PayloadTooLarge) as caught:
        check_run_request({"message": "m", "response_format": big}, LIMITS)
    assert caught.value.errors[0]["pointer"] == "/response_format"


@pytest.mark.parametrize(
    ("schema", "pointer", "text"),
    [
        ("string", "/response_schema", "must be a JSON Schema object"),
        ([], "/response_schema", "must be a JSON Schema object"),
        (True, "/response_schema", "must be a JSON Schema object"),
        ({"$ref": "http://169.254.169.254/latest/meta-data/"}, "/response_schema", "only local"),
        (
            {"properties": {"a": {"$ref": "https://evil.example/s.json#/x"}}},
            "/response_schema/properties/a",
            "only local",
        ),
        ({"$ref": "#"}, "/response_schema", "recursive $ref"),
        (
            {"$defs": {"n": {"properties": {"next": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"},
            "/response_schema/$defs/n/properties/next",
            "recursive $ref",
        ),
        (
            {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}},
            "/response_schema/$defs",
            "recursive",
        ),
        ({"$ref": "#/$defs/missing"}, "/response_schema", "does not resolve"),
        ({"$ref": "#anchor"}, "/response_schema", "only local"),
        ({"$dynamicRef": "http://x/"}, "/response_schema", "only local"),
        ({"$id": "http://evil.example/", "type": "object"}, "/response_schema/$id", "$id is not supported"),
        ({"type": 12}, "/response_schema/type", "is not valid"),
        ({"type": "object", "required": "a"}, "/response_schema/required", "is not of type 'array'"),
        ({"type": "string", "pattern": "(unclosed"}, "/response_schema/pattern", "regex"),
        ({"type": "string", "pattern": "a" * 1025}, "/response_schema/pattern", "pattern longer than 1024"),
        ({"patternProperties": {"a" * 1025: {}}}, "/response_schema/patternProperties", "pattern longer"),
        (nested_schema(8), "/response_schema" + "/properties/a" * 7 + "/properties", "deeper than 16"),
        (
            {"type": "object", "properties": {f"p{i}": {} for i in range(257)}},
            "/response_schema",
            "more than 256",
        ),
        (
            {"anyOf": [{"$ref": "#/$defs/a"}] * 65, "$defs": {"a": {}}},
            "/response_schema",
            "more than 64 $refs",
        ),
    ],
)
def test_response_schema_rejections(schema: Any, pointer: str, text: str) -> None:
    with pytest.raises(InvalidResponseSchema) as caught:
        check_run_request({"message": "m", "response_schema": schema}, LIMITS)
    problem = caught.value
    assert problem.status == 400
    assert problem.errors[0]["pointer"].startswith(pointer), problem.errors
    assert text in problem.errors[0]["message"] + " " + (problem.detail or "")


@pytest.mark.parametrize(
    "schema",
    [
        {
            "type": "object",
            "properties": {"location": {"type": "string"}, "t": {"type": "number"}},
            "required": ["t"],
        },
        nested_schema(7),
        {
            "$defs": {"pos": {"type": "number", "minimum": 0}},
            "properties": {"a": {"$ref": "#/$defs/pos"}},
            "type": "object",
        },
        {"type": "object", "properties": {"$ref": {"type": "string"}}},  # a property named "$ref" is fine
        {"type": "string", "pattern": "^[a-z]+$"},
        {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(256)}},
    ],
)
def test_acceptable_schemas(schema: dict[str, Any]) -> None:
    check_response_schema(schema, LIMITS)


def test_schema_checks_are_cached_by_content() -> None:
    schema = {
        "type": "object",
        "properties": {f"f{i}": {"type": "string", "maxLength": 9} for i in range(120)},
    }
    start = time.perf_counter()
    check_response_schema(schema, LIMITS)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(20):
        check_response_schema(json.loads(json.dumps(schema)), LIMITS)
    again = (time.perf_counter() - start) / 20
    assert again < first


def _chain(levels: int, **outer: Any) -> dict[str, Any]:
    defs: dict[str, Any] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(levels)
    }
    defs[f"d{levels}"] = {"type": "string"}
    return {**outer, "$defs": defs}


def test_schema_whose_refs_expand_exponentially_is_refused() -> None:
    hostile = _chain(31, **{"$ref": "#/$defs/d0"})  # 63 refs, ~2 KB: within every other limit
    assert json.dumps(hostile).count("$ref") == 63
    assert len(json.dumps(hostile)) < 2300
    with pytest.raises(InvalidResponseSchema) as caught:
        check_response_schema(hostile, LIMITS)
    assert caught.value.errors == [
        {
            "pointer": "/response_schema",
            "message": "expands to more than 8192 subschemas once its $refs are followed",
        }
    ]


def test_expansion_limit_counts_exactly() -> None:
    from durableagent.contract.schema_work import expanded_size

    schema = _chain(3, **{"$ref": "#/$defs/d0"})
    locations = [[], ["$defs", "d0", "allOf", 0], ["$defs", "d0", "allOf", 1]]
    locations += [["$defs", f"d{i}", "allOf", j] for i in (1, 2) for j in (0, 1)]
    targets = [["$defs", "d0"], ["$defs", "d1"], ["$defs", "d1"], *[["$defs", f"d{i}"] for i in (2, 2, 3, 3)]]

    def naive(node: Any) -> int:  # objects and arrays of the expansion, following every $ref anew
        if isinstance(node, dict):
            ref = node.get("$ref")
            target = naive(schema["$defs"][ref.rsplit("/", 1)[1]]) if isinstance(ref, str) else 0
            return 1 + target + sum(naive(v) for v in node.values())
        return 1 + sum(naive(v) for v in node) if isinstance(node, list) else 0

    assert expanded_size(schema, locations, targets, 10**6) == naive(schema) == 97
    assert expanded_size(schema, locations, targets, 10) == 11  # saturates
    check_response_schema(_chain(9, type="array", items={"$ref": "#/$defs/d0"}), LIMITS)  # under the limit
    with pytest.raises(InvalidResponseSchema):
        check_response_schema(
            _chain(9, type="array", items={"$ref": "#/$defs/d0"}), Limits(max_schema_expanded=1000)
        )
