"""The fast path agrees with openapi-core on every schema of the spec, values around the edges.

The fast path may only accept what openapi-core (the authority) accepts; these tests check more:
that it accepts exactly that, for every parameter and body schema of the shipped spec, so the
authority is only consulted for rejections. And that an accepted JSON body, as its generated
model, is the body the client sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from durableagent_models import SessionId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_core.validation.schemas.validators import SchemaValidator

from durableagent.contract.authority import after_authority
from durableagent.contract.fast_checks import portable_pattern, schema_check
from durableagent.contract.request_body import fast_accepts, parse_strict
from durableagent.contract.routing import Body, Param, compile_routes
from durableagent.contract.spec import internal_spec

from .edges import EDGE_VALUES, identifiers, json_values, messages, numbers, run_bodies, scalars

SPEC = internal_spec()
ROUTES = compile_routes(SPEC)
PARAMS: dict[str, Param] = {
    f"{op.operation_id}:{p.location}:{p.name}": p
    for route in ROUTES
    for op in route.operations.values()
    for p in op.params
}
BODIES: dict[str, Body] = {
    f"{op.operation_id}:{media}": body
    for route in ROUTES
    for op in route.operations.values()
    for media, body in op.bodies.items()
}
RUN_JSON, RUN_TEXT = BODIES["runAgent:application/json"], BODIES["runAgent:text/plain"]
SETTINGS = settings(
    max_examples=600,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def accepts(validator: SchemaValidator | None, value: Any) -> bool:
    assert validator is not None
    try:
        validator.validate(value)
    except InvalidSchemaValue:
        return False
    return True


def test_every_schema_of_the_spec_has_a_fast_check() -> None:
    assert len(PARAMS) >= 15
    assert len(BODIES) == 3  # runAgent JSON and text, runAgUi JSON
    assert all(p.fast is not None for p in PARAMS.values())
    assert all(b.fast is not None for b in BODIES.values())
    assert RUN_JSON.model is not None
    assert RUN_JSON.model.__name__ == "RunRequest"
    assert RUN_TEXT.model is None


def test_every_check_agrees_on_every_edge_value() -> None:
    """Exhaustive over the edge values: every parameter, the text body, each RunRequest field."""
    assert RUN_JSON.fast is not None
    assert RUN_TEXT.fast is not None
    cases: list[tuple[str, Any, Any, SchemaValidator | None]] = []
    for name, param in PARAMS.items():
        cases += [(name, param.fast, value, param.validator) for value in EDGE_VALUES]
    cases += [("text/plain", RUN_TEXT.fast, value, RUN_TEXT.validator) for value in EDGE_VALUES]
    for field in SPEC["components"]["schemas"]["RunRequest"]["properties"]:
        for value in EDGE_VALUES:
            body = {"message": "hi", field: value}
            cases.append((f"RunRequest.{field}", RUN_JSON.fast, body, RUN_JSON.validator))
    wrong = [(name, v) for name, fast, v, validator in cases if fast(v) is not accepts(validator, v)]
    assert len(cases) > 2000
    assert not wrong, wrong[:10]


@SETTINGS
@given(st.sampled_from(sorted(PARAMS)), identifiers | numbers | st.booleans() | st.none())
def test_parameter_checks_agree_with_openapi_core(name: str, value: Any) -> None:
    param = PARAMS[name]
    assert param.fast is not None
    assert param.fast(value) is accepts(param.validator, value)


@SETTINGS
@given(run_bodies)
def test_run_body_fast_path_agrees_with_openapi_core(body: dict[str, Any]) -> None:
    assert RUN_JSON.fast is not None
    assert RUN_JSON.model is not None
    accepted = accepts(RUN_JSON.validator, body)
    strict = parse_strict(RUN_JSON.model, body)
    assert RUN_JSON.fast(body) is accepted  # jsonschema-rs reads the schema exactly as openapi-core
    if strict is not None and RUN_JSON.fast(body):
        assert accepted  # the fast path never accepts what openapi-core rejects
    if accepted:
        model = strict if strict is not None else after_authority(RUN_JSON.model, body)
        assert model is not None
        assert model.model_dump(exclude_unset=True) == body  # the model is the body that was sent


@SETTINGS
@given(json_values())
def test_arbitrary_json_bodies_agree(body: Any) -> None:
    assert RUN_JSON.fast is not None
    assert RUN_JSON.fast(body) is accepts(RUN_JSON.validator, body)


@SETTINGS
@given(messages | scalars)
def test_text_body_check_agrees_with_openapi_core(text: Any) -> None:
    assert RUN_TEXT.fast is not None
    assert RUN_TEXT.fast(text) is accepts(RUN_TEXT.validator, text)


def test_the_generated_session_id_model_is_looser_than_the_contract() -> None:
    """Why jsonschema-rs checks a body beside its model: datamodel-codegen drops `not`."""
    assert SessionId.model_validate("run", strict=True).root == "run"
    assert RUN_JSON.model is not None
    assert parse_strict(RUN_JSON.model, {"message": "m", "sessionId": "run"})
    assert RUN_JSON.fast is not None
    assert not RUN_JSON.fast({"message": "m", "sessionId": "run"})
    assert not accepts(RUN_JSON.validator, {"message": "m", "sessionId": "run"})


def test_values_jsonschema_rs_cannot_read_are_no_verdict() -> None:
    check = schema_check({"type": "string"})
    assert check is not None
    assert fast_accepts(check, "a\ud800b") is False  # a lone surrogate: openapi-core decides
    assert fast_accepts(check, b"bytes") is False
    assert fast_accepts(None, "a") is False
    assert fast_accepts(check, "a") is True


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "date-time"},
        {"type": "integer", "format": "int32"},
        {"properties": {"a": {"format": "email"}}},
        {"patternProperties": {"^a": {}}},
        {"oneOf": [{"type": "object"}], "discriminator": {"propertyName": "kind"}},
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "string"},
        {"pattern": "\\d+"},
        {"pattern": "\\s"},
        {"pattern": "(?=a)"},
        {"pattern": "[[:alpha:]]"},
        {"pattern": "[a&&b]"},
        {"items": {"pattern": "\\w"}},
        {"$ref": "https://example.invalid/schema.json"},
    ],
)
def test_schemas_left_to_openapi_core(schema: dict[str, Any]) -> None:
    assert schema_check(schema) is None


@pytest.mark.parametrize(
    "schema",
    [
        {"properties": {"format": {"type": "string"}, "pattern": {"type": "string"}}},
        {"enum": [{"format": "x"}]},
        {"const": {"patternProperties": 1}},
        {"pattern": "^[A-Za-z0-9_.:-]{1,128}$"},
    ],
)
def test_names_and_data_are_not_keywords(schema: dict[str, Any]) -> None:
    assert schema_check(schema) is not None


def test_every_pattern_of_the_spec_is_portable() -> None:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(SPEC)
    assert len(found) >= 5
    assert all(portable_pattern(p) for p in found), [p for p in found if not portable_pattern(p)]


@pytest.mark.parametrize(
    ("pattern", "portable"),
    [
        ("^[A-Za-z0-9_-]{1,128}$", True),
        ("a{2,3}?|(b)*c+\\.", True),
        ("[^\\t\\n\\v\\f\\r \\u00A0-\\u00FF]", True),
        ("\\S", False),
        ("\\d", False),
        ("\\bword", False),
        ("\\p{L}", False),
        ("(?i)a", False),
        ("a{,3}", False),
        ("[]a]", False),
        ("[a--b]", False),
        ("a{", False),
    ],
)
def test_portable_pattern(pattern: str, portable: bool) -> None:
    assert portable_pattern(pattern) is portable
