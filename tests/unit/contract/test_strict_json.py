"""Strict JSON: everything RFC 8259 + UTF-8 rejects becomes InvalidJson (400), never a 500 or a hang."""

from __future__ import annotations

import json
import time

import pytest

from durableagent.contract.errors import pointer
from durableagent.contract.problems import InvalidJson
from durableagent.contract.request_body import MAX_DEPTH, parse_json


def nested(depth: int, alternate: bool = True) -> bytes:
    opening = "".join('{"a":' if alternate and i % 2 else "[" for i in range(depth))
    closing = "".join("}" if alternate and i % 2 else "]" for i in reversed(range(depth)))
    return (opening + "1" + closing).encode()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"message":"x","message":"y"}', "Duplicate object key 'message'"),
        (b'{"a":{"b":1,"b":2}}', "Duplicate object key 'b'"),
        (b'{"message": NaN}', "NaN is not a JSON value"),
        (b'{"message": Infinity}', "Infinity is not a JSON value"),
        (b"[-Infinity]", "-Infinity is not a JSON value"),
        (b'{"message": 1e999999}', "out of range"),
        (b"[-1e400]", "out of range"),
        (b"[" * 100_000, "nests deeper than 32"),
        (b'{"message": ' + b"1" * 5000 + b"}", "too many digits"),
        (b"\xff\xfe", "not valid UTF-8 (byte 0)"),
        (b'{"message": "caf\xe9"}', "not valid UTF-8"),
        (b'{"message": "\xed\xa0\x80"}', "not valid UTF-8"),  # an encoded surrogate
        (b'{"message": "\\ud800"}', "unpaired UTF-16 surrogate"),
        (b'{"message": "\\udc00x"}', "unpaired UTF-16 surrogate"),
        (b'{"\\ud800": 1}', "unpaired UTF-16 surrogate"),
        ("\ufeff{}".encode(), "byte order mark"),
        (b"", "Expecting value"),
        (b'{"a": 1', "line 1, column 8"),
        (b'{"a": "line\nbreak"}', "Invalid control character"),
        (b"[1,]", "Invalid JSON"),
        (b"{'a': 1}", "Invalid JSON"),
    ],
)
def test_rejected_with_a_helpful_detail(body: bytes, detail: str) -> None:
    with pytest.raises(InvalidJson) as caught:
        parse_json(body)
    assert detail in (caught.value.detail or "")
    assert caught.value.status == 400


def test_lone_surrogate_error_has_a_pointer() -> None:
    with pytest.raises(InvalidJson) as caught:
        parse_json(b'{"a": [1, {"b/c": "\\ud800"}]}')
    assert caught.value.errors == [{"pointer": "/a/1/b~1c", "message": "unpaired surrogate"}]


@pytest.mark.parametrize(
    "body",
    [
        b'{"message": "\\ud83d\\ude00"}',
        b'["\\\\ud800"]',
        b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',
        b"1e308",
    ],
)
def test_valid_json_that_looks_suspicious_is_accepted(body: bytes) -> None:
    assert parse_json(body) == json.loads(body)


@pytest.mark.parametrize("alternate", [True, False])
def test_depth_limit_is_exact(alternate: bool) -> None:
    assert parse_json(nested(MAX_DEPTH, alternate)) == json.loads(nested(MAX_DEPTH, alternate))
    with pytest.raises(InvalidJson, match="deeper"):
        parse_json(nested(MAX_DEPTH + 1, alternate))
    assert parse_json(nested(16), max_depth=16)
    with pytest.raises(InvalidJson):
        parse_json(nested(17), max_depth=16)


def test_brackets_in_strings_and_escapes_do_not_count() -> None:
    tricky = b'{"k\\\\": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\", "v": ' + nested(30) + b"}"
    assert parse_json(tricky)["v"] == json.loads(nested(30))


@pytest.mark.parametrize(
    "bomb",
    [
        b"[" * 65536,
        b"[{" * 32768,
        b"][" * 32768,
        b"[}" * 32768,
        b'["\\"' * 20000,
        b'["' + b"\\" * 65000,
        b"[" * 40 + b'"' * 30000,
        b'{"a":' * 13000,
    ],
)
def test_bombs_fail_fast_without_recursion(bomb: bytes) -> None:
    start = time.perf_counter()
    with pytest.raises(InvalidJson):
        parse_json(bomb)
    assert time.perf_counter() - start < 0.5  # typically < 5 ms; generous for loaded CI machines


def test_str_input_and_values() -> None:
    assert parse_json('{"a": [1, 2.5, true, null, "x"]}') == {"a": [1, 2.5, True, None, "x"]}


def test_pointer_escapes() -> None:
    assert pointer([]) == ""
    assert pointer(["a/b", "m~n", 0]) == "/a~1b/m~0n/0"


def test_normal_bodies_cost_little_over_json_loads() -> None:
    body = json.dumps({"message": "What is the weather like in Seattle?", "sessionId": "user-123"}).encode()

    def best(fn: object, n: int = 2000) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                fn()  # type: ignore[operator]
            times.append((time.perf_counter() - start) / n)
        return min(times)

    overhead = best(lambda: parse_json(body)) - best(lambda: json.loads(body))
    assert overhead < 50e-6  # measured ~2-3 µs; the bound only catches an accidental slow path
