"""Durable API details that must match the extension: signal body encoding and key validation."""

from __future__ import annotations

import json

import pytest

from durableagent.local.durable_api import invalid_key, operation_input


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        # client signal_entity(eid, "add", {"n": 3}): json.dumps(input), then aiohttp json= again
        (json.dumps(json.dumps({"n": 3})).encode(), "application/json", json.dumps(json.dumps({"n": 3}))),
        # falsy input or no input: no body
        (b"", "application/octet-stream", None),
        # a JSON body that is not double encoded stays what it is
        (b'{"n":3}', "application/json; charset=utf-8", '{"n":3}'),
        # any other media type: the body becomes a JSON string
        (b"plain text", "text/plain", '"plain text"'),
    ],
)
def test_operation_input_encoding(body: bytes, content_type: str, expected: str | None) -> None:
    assert operation_input(body, content_type) == (True, expected)


def test_signal_input_reaches_get_input_as_the_original_value() -> None:
    ok, text = operation_input(json.dumps(json.dumps({"n": 3})).encode(), "application/json")
    assert ok
    assert text is not None
    # DurableEntityContext.get_input(): json.loads, then df_loads
    assert json.loads(json.loads(text)) == {"n": 3}


def test_invalid_json_body_is_rejected() -> None:
    assert operation_input(b"{nope", "application/json") == (False, None)


@pytest.mark.parametrize("key", ["a/b", "a\\b", "a#b", "a?b", "a\nb", "a\x00b", "a\x7fb"])
def test_invalid_keys(key: str) -> None:
    assert invalid_key(key)


@pytest.mark.parametrize("key", ["", "k1", "user@example.com", "ünïcode", "a b", "a.b-c_d"])
def test_valid_keys(key: str) -> None:
    assert not invalid_key(key)
