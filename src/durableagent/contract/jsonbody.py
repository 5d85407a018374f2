r"""Strict JSON parsing of request bodies.

Why this module exists: `json.loads` accepts things the contract does not (duplicate keys,
`NaN`/`Infinity`, `1e999` as infinity, lone surrogates from `\ud800`), and fails in ways that
become 500s if left alone (`RecursionError` on `[`×100000, `ValueError` on 5,000-digit integers).
`parse_json` accepts exactly RFC 8259 JSON in UTF-8 and turns every failure into `InvalidJson`
with a caller-helpful detail (never the exception text) and a JSON pointer when one is known.

Cost: one `bytes.count` pair decides whether the depth scan is needed at all, so a normal body
costs a few microseconds over `json.loads`; the scan itself is linear (< 1 ms for 64 KiB of
brackets on the reference machine) and never recurses.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from .problems import InvalidJson

__all__ = ["MAX_DEPTH", "parse_json", "pointer"]

MAX_DEPTH = 32
_FOLD = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _Reject(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def pointer(path: Iterator[str | int] | list[str | int] | tuple[str | int, ...]) -> str:
    """RFC 6901 JSON pointer for a sequence of keys/indices (`[]` → `""`)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Reject(f"Duplicate object key {_short(key)!r}: every key may appear only once.")
            seen.add(key)
    return result


def _constant(name: str) -> Any:
    raise _Reject(f"{name} is not a JSON value.")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Reject(f"The number {_short(text)} is out of range.")
    return value


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _too_deep(raw: bytes, max_depth: int) -> bool:
    """True when brackets outside strings nest deeper than `max_depth`.

    Works on the UTF-8 bytes (bracket bytes never occur inside multi-byte sequences) with C-speed
    bytes primitives only (no regex, no backtracking, no per-character Python loop): drop escape
    pairs and strings, keep bracket bytes, fold `{}` into `[]`, then remove innermost `[]` pairs
    once per pass. A balanced document of depth d vanishes after exactly d passes; what cannot
    reduce is `]`*a `[`*b (unbalanced: a syntax error json.loads reports), whose running depth is
    at most b + passes.
    """
    if b"\\" in raw:  # drop escape pairs left to right, as JSON lexes them: `\\\\` first, then `\\"`
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(raw.split(b'"')[0::2])
    brackets = outside.translate(_FOLD, _NOT_BRACKETS)
    passes = 0
    while brackets and passes < max_depth:
        reduced = brackets.replace(b"[]", b"")
        if len(reduced) == len(brackets):
            break
        brackets, passes = reduced, passes + 1
    if not brackets:
        return False
    if b"[]" in brackets:
        return True
    return brackets.count(b"[") + passes > max_depth


def _find_lone_surrogate(value: Any) -> list[str | int] | None:
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return path
        elif isinstance(node, dict):
            for key, item in node.items():
                try:
                    key.encode("utf-8")
                except UnicodeEncodeError:
                    return path
                stack.append((item, [*path, key]))
        elif isinstance(node, list):
            stack.extend((item, [*path, i]) for i, item in enumerate(node))
    return None


def parse_json(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse `body` as strict JSON; raise `InvalidJson` for anything RFC 8259 + UTF-8 rejects."""
    if isinstance(body, str):
        text, raw = body, body.encode("utf-8", "surrogatepass")
    else:
        raw = bytes(body)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidJson(f"The body is not valid UTF-8 (byte {exc.start}).") from None
    if text.startswith("\ufeff"):
        raise InvalidJson("The body starts with a byte order mark; send plain UTF-8 JSON.")
    if (raw.count(b"[") + raw.count(b"{") > max_depth) and _too_deep(raw, max_depth):
        raise InvalidJson(f"The JSON nests deeper than {max_depth} levels.")
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float)
    except _Reject as exc:
        raise InvalidJson(exc.detail) from None
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
    except ValueError:
        # CPython refuses to convert integers longer than sys.get_int_max_str_digits() (CVE-2020-10735).
        raise InvalidJson("A number in the body has too many digits.") from None
    except RecursionError:  # pragma: no cover - the depth scan runs first
        raise InvalidJson(f"The JSON nests deeper than {max_depth} levels.") from None
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        where = _find_lone_surrogate(value)
        if where is not None:
            raise InvalidJson(
                "A string contains an unpaired UTF-16 surrogate escape (such as \\ud800).",
                errors=[{"pointer": pointer(where), "message": "unpaired surrogate"}],
            )
    return value
