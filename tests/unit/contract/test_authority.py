"""The authority's validators (openapi-core's, compiled once): strict `$`, and the error list."""

from __future__ import annotations

import re

import pytest
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from durableagent.contract.authority import authoritative, strict_regex
from durableagent.contract.errors import error_list
from durableagent.contract.refs import component_name, inline_refs
from durableagent.contract.spec import internal_spec

SPEC = internal_spec()
RUN_REQUEST = inline_refs(SPEC["components"]["schemas"]["RunRequest"], SPEC)


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


def test_inline_refs_replaces_every_local_ref() -> None:
    assert "'$ref'" not in repr(RUN_REQUEST)
    assert RUN_REQUEST["properties"]["sessionId"]["not"] == {"enum": ["run", "ag-ui"]}
    with pytest.raises(ValueError, match="recursive"):
        inline_refs({"$ref": "#/a"}, {"a": {"items": {"$ref": "#/a"}}})


@pytest.mark.parametrize(
    ("schema", "name"),
    [
        ({"$ref": "#/components/schemas/RunRequest"}, "RunRequest"),
        ({"$ref": "#/components/schemas/RunRequest", "description": "x"}, None),
        ({"$ref": "#/components/parameters/AgentName"}, None),
        ({"$ref": "#/components/schemas/a/b"}, None),
        ({"type": "string"}, None),
        (None, None),
    ],
)
def test_component_name(schema: object, name: str | None) -> None:
    assert component_name(schema) == name
