"""The compiled fast checks agree with openapi-core's validators; patterns are strict about `$`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from durableagent.contract.errors import error_list
from durableagent.contract.routing import compile_routes
from durableagent.contract.schemas import authoritative, compile_check, inline_refs, strict_regex
from durableagent.contract.spec import internal_spec

SPEC = internal_spec()
RUN_REQUEST = inline_refs(SPEC["components"]["schemas"]["RunRequest"], SPEC)
SETTINGS = settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
)
ids = st.sampled_from(["user-123", "abc\n", "a@b", "", "x" * 129, "é", "a.b", "A_b-9", "\n", "ok\r"])
texts = ids | st.text(max_size=12)
json_values = st.recursive(
    json_scalars | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
messages = st.sampled_from(["hi", " x ", "", "  ", "\u001c", "\u00a0", "a\n", "x" * 32769]) | texts
run_like = st.fixed_dictionaries(
    {"message": messages},
    optional={
        "sessionId": ids,
        "session_id": ids | json_values,
        "thread_id": ids,
        "role": st.sampled_from(["user", "system", "admin", None]),
        "enable_tool_calls": st.booleans() | json_scalars,
        "response_schema": st.dictionaries(texts, json_values, min_size=1, max_size=3) | json_values,
        "wait_for_response": st.booleans() | json_scalars,
        "extra": json_values,
    },
) | st.dictionaries(texts, json_values, max_size=4)


def accepts(schema: dict[str, Any], value: Any) -> bool:
    try:
        authoritative(schema).validate(value)
    except InvalidSchemaValue:
        return False
    return True


@SETTINGS
@given(run_like)
def test_fast_run_request_check_agrees_with_openapi_core(value: dict[str, Any]) -> None:
    fast = compile_check(RUN_REQUEST)
    assert fast is not None
    assert fast(value) == accepts(RUN_REQUEST, value)


PARAM_SCHEMAS = [
    param.validator.validator.schema
    for route in compile_routes(SPEC)
    for operation in route.operations.values()
    for param in operation.params
]


@SETTINGS
@given(st.sampled_from(PARAM_SCHEMAS), ids | json_scalars | st.integers(-5, 2000))
def test_fast_parameter_checks_agree_with_openapi_core(schema: dict[str, Any], value: Any) -> None:
    fast = compile_check(schema)
    assert fast is not None
    assert fast(value) == accepts(schema, value)


@pytest.mark.parametrize(
    "schema",
    [
        {"oneOf": [{"type": "string"}]},
        {"format": "date-time"},
        {"enum": [1, "a"]},
        {"$ref": "#/x"},
        {"properties": {"a": {"anyOf": []}}},
        {"patternProperties": {"a": {}}, "additionalProperties": False},
        "x",
    ],
)
def test_unsupported_keywords_fall_back_to_openapi_core(schema: Any) -> None:
    assert compile_check(schema) is None


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("^[A-Za-z0-9_-]+$", "abc", True),
        ("^[A-Za-z0-9_-]+$", "abc\n", False),
        ("abc$", "xabc\n", False),
        ("abc\\$", "abc$", True),
        ("abc\\\\$", "abc\\", True),
        ("abc\\\\$", "abc\\\n", False),
        ("\\S", " x ", True),
        ("[$]", "$", True),
    ],
)
def test_strict_regex(pattern: str, value: str, matches: bool) -> None:
    assert (strict_regex(pattern).search(value) is not None) is matches


def test_python_re_search_has_the_trailing_newline_hole() -> None:
    import re

    assert re.search("^[A-Za-z0-9_-]+$", "abc\n")  # why strict_regex exists


def test_error_list_points_at_missing_and_extra_fields() -> None:
    validator = authoritative(RUN_REQUEST)
    with pytest.raises(InvalidSchemaValue) as caught:
        validator.validate({"extra/key": 1, "nested": {}})
    errors = error_list(caught.value.schema_errors)
    assert {"pointer": "/message", "message": "'message' is a required property"} in errors
    assert {"pointer": "/extra~1key", "message": "'extra/key' is not an allowed property"} in errors


def test_error_list_is_bounded() -> None:
    validator = authoritative(RUN_REQUEST)
    with pytest.raises(InvalidSchemaValue) as caught:
        validator.validate({f"k{i}": "x" * 500 for i in range(100)} | {"message": "y" * 40000})
    errors = error_list(caught.value.schema_errors, "/body")
    assert len(errors) == 20
    assert all(len(e["message"]) <= 201 and e["pointer"].startswith("/body/") for e in errors)
