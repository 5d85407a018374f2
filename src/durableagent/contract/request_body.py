r"""A request body: parsed as strict JSON, bounded, read as its generated model, checked against its schema.

Why this module exists: it is the one place that decides a body, in this order.

* Strict JSON (:func:`parse_json`): `json.loads` accepts things the contract does not (duplicate
  keys, `NaN`/`Infinity`, `1e999` as infinity, lone surrogates from `\ud800`) and fails in ways
  that become 500s if left alone (`RecursionError` on `[`×100000, `ValueError` on 5,000-digit
  integers). `parse_json` accepts exactly RFC 8259 JSON in UTF-8 and turns every failure into
  `InvalidJson` with a caller-helpful detail (never the exception text) and a JSON pointer when
  one is known. One `bytes.count` pair decides whether the depth scan is needed at all, so a normal
  body costs a few microseconds over `json.loads`; the scan is linear and never recurses.
* Bounds (cheap, before any schema walk): the raw size (413), and the content checks of an
  operation (``CONTENT_CHECKS``: a run's message length, 413, and its ``response_schema``, vetted by
  ``limits.check_response_schema``).
* The fast path accepts when the jsonschema-rs check of the spec's schema (``fast_checks``) accepts
  and, for a JSON body with a generated model, the strict parse into that model succeeds. Anything
  else goes to openapi-core (``authority``), which decides: its rejection is the 400 with its error
  list; its acceptance stands, and the model is then built from the accepted body
  (``authority.after_authority``). So the fast path can only make accepting cheaper, never accept
  what openapi-core rejects.

Models: a body schema ``$ref: '#/components/schemas/X'`` names ``durableagent_models.X`` (written
by scripts/generate from openapi.yaml), used only when the spec being validated has the very schema
the models were generated from (``routing.generated_model``), so a model never stands for another
schema. Parsing is strict (``strict=True`` on the parsed JSON: "1" is not an int, 1 is not a bool).
The model alone never accepts a body (it is not a faithful copy of the schema: datamodel-codegen
drops ``not``, and pydantic's regex is Rust's, see ``fast_checks``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from .authority import after_authority, authority_errors
from .errors import pointer, summary
from .limits import SCHEMA_FIELDS, Limits, check_response_schema
from .problems import InvalidJson, InvalidRequest, PayloadTooLarge

if TYPE_CHECKING:
    from .routing import Body

__all__ = [
    "CONTENT_CHECKS",
    "MAX_DEPTH",
    "check_body",
    "check_run_body",
    "check_size",
    "fast_accepts",
    "parse_json",
    "parse_strict",
]

MAX_DEPTH = 32
_FOLD = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _Reject(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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


def check_size(raw: bytes, limits: Limits) -> None:
    """413 when the raw body is larger than ``limits.max_body_bytes``."""
    if len(raw) > limits.max_body_bytes:
        raise PayloadTooLarge(f"The body is larger than {limits.max_body_bytes} bytes.")


def _check_message(message: str, at: str, limits: Limits) -> None:
    if len(message) > limits.max_message_chars:
        raise PayloadTooLarge(
            f"The message is longer than {limits.max_message_chars} characters.",
            errors=[{"pointer": at, "message": f"longer than {limits.max_message_chars} characters"}],
        )


def check_run_body(body: Any, limits: Limits) -> None:
    """Bounds of a ``runAgent`` body (a parsed JSON object, or the text/plain message itself)."""
    if isinstance(body, str):
        _check_message(body, "", limits)
        return
    if not isinstance(body, dict):
        return  # the schema check reports the wrong type
    message = body.get("message")
    if isinstance(message, str):
        _check_message(message, "/message", limits)
    for field in SCHEMA_FIELDS:
        if field in body and body[field] is not None:
            check_response_schema(body[field], limits, at="/" + field)


CONTENT_CHECKS: dict[str, Callable[[Any, Limits], None]] = {"runAgent": check_run_body}
"""Content checks per operationId, run on the parsed body before schema validation."""


def parse_strict(model: type[BaseModel], value: Any) -> BaseModel | None:
    """`value` (parsed JSON) as `model`, in pydantic's strict mode; None when it does not fit."""
    try:
        return model.model_validate(value, strict=True)
    except ValidationError:
        return None


def fast_accepts(check: Callable[[Any], bool] | None, value: Any) -> bool:
    """Whether a fast check (jsonschema-rs' ``is_valid``) accepts ``value`` (no verdict: False)."""
    if check is None:
        return False
    try:
        return check(value)
    except ValueError:  # not representable as JSON (a str with a lone surrogate): no verdict
        return False


def check_body(spec: Body, body: Any) -> BaseModel | None:
    """Accept ``body`` (parsed JSON or text) or raise ``InvalidRequest``; return its model, if any."""
    model = parse_strict(spec.model, body) if spec.model is not None else None
    fast = (spec.model is None or model is not None) and fast_accepts(spec.fast, body)
    if not fast and spec.validator is not None:
        errors = authority_errors(spec.validator, body)
        if errors:
            raise InvalidRequest(summary(errors), errors=errors)
    if spec.model is not None and model is None:
        model = after_authority(spec.model, body)
    return model
