"""The flattened metaschema gives the official draft 2020-12 verdicts (and errors), faster."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from durableagent.contract.metaschema import META_VALIDATOR, flattened_metaschema

OFFICIAL = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)
KEYWORDS = sorted(flattened_metaschema()["properties"])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-2, 2)
    | st.sampled_from(["string", "object", "integer", "nope", "#", "#/$defs/a", "(", "^a$", "http://x/", ""])
)
names = st.sampled_from(["a", "b", "x-y", "$ref"])
schemas: st.SearchStrategy[Any] = st.deferred(
    lambda: (
        st.booleans()
        | st.dictionaries(st.sampled_from(list(VALUES)), st.one_of(*VALUES.values()), max_size=3).flatmap(
            lambda d: st.fixed_dictionaries({k: VALUES[k] | scalars for k in d})  # mostly fitting values
        )
    )
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(["string", "object", "integer", "array", "null", "nope"])
    | st.lists(st.sampled_from(["string", "null", "integer"]), max_size=3),
    "properties": st.dictionaries(names, schemas, max_size=2),
    "$defs": st.dictionaries(names, schemas, max_size=2),
    "items": schemas,
    "additionalProperties": schemas,
    "not": schemas,
    "anyOf": st.lists(schemas, max_size=2),
    "prefixItems": st.lists(schemas, max_size=2),
    "required": st.lists(names, max_size=3),
    "enum": st.lists(scalars, max_size=3),
    "const": scalars,
    "minLength": st.integers(-1, 3),
    "maximum": st.integers() | st.floats(allow_nan=False),
    "multipleOf": st.integers(-1, 3),
    "pattern": st.sampled_from(["^a$", "(", "[a-z]+", "\\d"]),
    "format": st.sampled_from(["date-time", "x"]),
    "$ref": st.sampled_from(["#", "#/$defs/a", "other.json", "http://x/s"]),
    "$anchor": st.sampled_from(["a", "1b"]),
    "description": st.text(max_size=5),
    "deprecated": st.booleans() | scalars,
    "uniqueItems": st.booleans(),
    "dependentRequired": st.dictionaries(names, st.lists(names | scalars, max_size=2), max_size=2),
}


def verdict(validator: Draft202012Validator, schema: Any) -> tuple[bool, Any, Any]:
    error = best_match(validator.iter_errors(schema))
    return (
        error is None,
        None if error is None else list(error.absolute_path),
        None if error is None else error.message,
    )


@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(schemas | scalars)
def test_same_verdicts_as_the_official_metaschema(schema: Any) -> None:
    assert verdict(META_VALIDATOR, schema) == verdict(OFFICIAL, schema)


def test_every_keyword_of_the_dialect_is_kept() -> None:
    for keyword in (
        "$ref",
        "$defs",
        "properties",
        "items",
        "prefixItems",
        "unevaluatedProperties",
        "pattern",
        "contentSchema",
        "deprecated",
        "format",
        "dependentRequired",
        "definitions",
        "$recursiveRef",
    ):
        assert keyword in KEYWORDS


def test_it_is_faster() -> None:
    schema = {
        "type": "object",
        "properties": {f"p{i}": {"type": "string", "maxLength": 9} for i in range(100)},
    }

    def cost(validator: Draft202012Validator) -> float:
        start = time.perf_counter()
        assert best_match(validator.iter_errors(schema)) is None
        return time.perf_counter() - start

    assert cost(META_VALIDATOR) < cost(OFFICIAL)
