"""Entity trigger wire format, the host's half: the batch request it sends and how it reads the answer.

Why: the Python SDK's ``Entity.handle`` reads exactly the JSON the Durable extension writes in
``EntityContextToString`` and answers with ``EntityState.to_json_string`` (protocol.md §4.2). Both
directions use one set of types, defined with the entity function's half (reading a request,
writing the answer) in ``entity/turn_io``, which the session entity uses; this module re-exports
them so the host and the tests have the whole format in one import.

Invariants:
* ``state`` and every operation ``input`` are JSON *texts* (strings inside the request document),
  or ``None``; nothing here re-encodes them.
* A response is only accepted with exactly one result per operation, in order; anything else is an
  invocation failure (:class:`BatchResponseError`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from durableagent.entity.turn_io import (
    BatchResult,
    Operation,
    OperationResult,
    decode_request,
    encode_response,
)

__all__ = [
    "BatchResponseError",
    "BatchResult",
    "Operation",
    "OperationResult",
    "call_response",
    "decode_request",
    "decode_response",
    "encode_request",
    "encode_response",
    "failed_results",
]


class BatchResponseError(ValueError):
    """The function's answer is not a valid entity batch response (treated as an invocation failure)."""


def encode_request(
    name: str, key: str, *, exists: bool, state: str | None, batch: Sequence[Operation]
) -> str:
    """The ``entityTrigger`` datum (a JSON string); ``name`` is lower-cased like the extension does."""
    doc = {
        "self": {"name": name.lower(), "key": key},
        "exists": exists,
        "state": state,
        "batch": [{"name": op.name, "input": op.input, "isSignal": op.is_signal} for op in batch],
    }
    return json.dumps(doc)


def decode_response(text: str | bytes, expected: int) -> BatchResult:
    """Parse the function's JSON answer; ``expected`` is the number of operations in the batch."""
    try:
        doc: Any = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise BatchResponseError("entity response is not JSON") from exc
    if not isinstance(doc, dict):
        raise BatchResponseError("entity response is not a JSON object")
    raw_results = doc.get("results")
    if not isinstance(raw_results, list) or len(raw_results) != expected:
        raise BatchResponseError("entity response has the wrong number of results")
    results = []
    for item in raw_results:
        if not isinstance(item, dict):
            raise BatchResponseError("entity result is not an object")
        result = item.get("result")
        if result is not None and not isinstance(result, str):
            result = json.dumps(result)
        results.append(
            OperationResult(
                is_error=bool(item.get("isError", False)),
                result=result,
                duration_ms=_int(item.get("duration")),
                start_time_ms=_int(item.get("startTime")),
            )
        )
    exists = bool(doc.get("entityExists", False))
    state = doc.get("entityState")
    if state is not None and not isinstance(state, str):
        raise BatchResponseError("entityState is not a JSON text")
    return BatchResult(exists=exists, state=state if exists else None, results=tuple(results))


def call_response(result: OperationResult) -> str:
    """The ``EventRaised`` payload an orchestration receives for an entity *call*.

    ``{"result": <text>}`` plus ``"exceptionType"`` when the operation failed; the SDK's
    ``ResponseMessage.from_dict`` treats the presence of ``exceptionType`` as an error.
    """
    payload: dict[str, Any] = {"result": result.result if result.result is not None else "null"}
    if result.is_error:
        payload["exceptionType"] = "Error"
    return json.dumps(payload)


def failed_results(count: int, message: str) -> tuple[OperationResult, ...]:
    """Results for a batch whose invocation failed: every operation is an error with ``message``."""
    text = json.dumps(message)
    return tuple(OperationResult(is_error=True, result=text) for _ in range(count))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
