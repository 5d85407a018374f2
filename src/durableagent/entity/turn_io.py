"""What crosses the session entity's boundary: the trigger's batch, a turn's input and its result.

The batch envelope (:class:`Operation`, :class:`OperationResult`, :class:`BatchResult`): the JSON
document the Durable extension hands an entity function (``EntityContextToString``) and the one the
function answers with (what the SDK's ``EntityState.to_json_string`` writes), protocol.md §4.2.
The session entity reads and answers it itself (``entity.session.entity_function``), so its batch
runs as a coroutine; the local host writes requests and reads answers with the same types
(``local/wire/entity_batch``). ``state`` and every operation ``input`` are JSON *texts* (strings
inside the document), or ``None``.

The ``run_agent`` operation and the run result (the HTTP 200 body) cross the seam between the HTTP
routes and the session entity. The route and the entity compute the same fingerprint of an operation
(a SHA-256 of the canonical JSON of what the turn means: message, role, tool switch, response
schema), so a retried request with the same ``Idempotency-Key`` is recognized, and a different
request reusing the key is refused (422). The run result is built from the committed ``TurnRecord``,
so an idempotent replay, a ``Location`` poll and the original response are the same answer; it is
the contract's generated ``RunResult``, so a field renamed in openapi.yaml breaks the type check
here, not a client.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent_framework import AgentResponse
from durableagent_models import CorrelationId, RunResult, SessionId

from durableagent.conversation.base import TurnRecord, text_of


@dataclass(frozen=True)
class Operation:
    """One queued operation, as the entity function sees it in ``batch[i]``."""

    name: str
    input: str | None  # JSON text (the RequestMessage input) or None
    is_signal: bool


@dataclass(frozen=True)
class OperationResult:
    """One entry of ``results``: ``result`` is JSON text (``df_dumps`` of the value or error message)."""

    is_error: bool
    result: str | None
    duration_ms: int = 0
    start_time_ms: int = 0


@dataclass(frozen=True)
class BatchResult:
    """One invocation's answer: whether the entity exists after it, its state, a result per operation."""

    exists: bool
    state: str | None  # JSON text; None when the entity does not exist afterwards
    results: tuple[OperationResult, ...]


def decode_request(text: str | bytes) -> tuple[str, str, bool, str | None, tuple[Operation, ...]]:
    """Parse a batch request into ``(name, key, exists, state, batch)``.

    Raises:
        ValueError, KeyError, TypeError: not a batch request (the invocation fails).
    """
    doc = json.loads(text)
    batch = tuple(
        Operation(name=op["name"], input=op.get("input"), is_signal=bool(op.get("isSignal", True)))
        for op in doc["batch"]
    )
    return doc["self"]["name"], doc["self"]["key"], bool(doc["exists"]), doc.get("state"), batch


def encode_response(result: BatchResult) -> str:
    """The batch's answer, as ``EntityState.to_json_string`` writes it (no signals: Python has none)."""
    return json.dumps(
        {
            "entityExists": result.exists,
            "entityState": result.state if result.exists else "null",
            "results": [
                {
                    "isError": r.is_error,
                    "duration": r.duration_ms,
                    "startTime": r.start_time_ms,
                    "result": r.result,
                }
                for r in result.results
            ],
            "signals": [],
        }
    )


def operation_input(text: str | None) -> Any:
    """An operation's input value, decoded as ``DurableEntityContext.get_input`` does; None if it has none.

    The input is a JSON text whose value is itself the JSON text of the input (``json.loads`` then
    ``df_loads`` in the SDK); anything else, where ``get_input`` raises, counts as no input.
    """
    if text is None:
        return None
    try:
        inner = json.loads(text)
        return json.loads(inner) if isinstance(inner, str) else None
    except ValueError:
        return None


def new_correlation_id() -> str:
    """A server-generated request id (128 random bits, hex)."""
    return secrets.token_hex(16)


def fingerprint(message: str, role: str, enable_tool_calls: bool, response_schema: Any) -> str:
    """SHA-256 (first 128 bits) of the request's meaning; independent of key order and whitespace."""
    canonical = json.dumps(
        {"message": message, "role": role, "tools": enable_tool_calls, "schema": response_schema},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]  # 128 bits: kept in every ledger entry


@dataclass(frozen=True)
class RunOperation:
    """One turn request as the entity receives it."""

    correlation_id: str
    message: str
    role: str = "user"
    enable_tool_calls: bool = True
    response_schema: Mapping[str, Any] | None = None
    if_match: str | None = None
    nonce: str = ""
    fingerprint: str = ""
    stream: bool = False  # write the turn's events to its stream log (not part of the fingerprint)

    def __post_init__(self) -> None:
        """Fill in the content ``fingerprint`` and a random ``nonce`` when they are not given."""
        if not self.fingerprint:
            fp = fingerprint(self.message, self.role, self.enable_tool_calls, self.response_schema)
            object.__setattr__(self, "fingerprint", fp)
        if not self.nonce:
            object.__setattr__(self, "nonce", secrets.token_hex(8))

    def to_input(self) -> dict[str, Any]:
        """The JSON the HTTP route signals the entity with."""
        return {
            "correlationId": self.correlation_id,
            "message": self.message,
            "role": self.role,
            "enable_tool_calls": self.enable_tool_calls,
            "response_schema": self.response_schema,
            "if_match": self.if_match,
            "nonce": self.nonce,
            "fingerprint": self.fingerprint,
            "stream": self.stream,
        }

    @staticmethod
    def from_input(value: Any) -> RunOperation:
        """Parse an entity input: the dict above, or a plain string taken as the message."""
        if isinstance(value, str):
            return RunOperation(correlation_id=new_correlation_id(), message=value)
        if not isinstance(value, Mapping) or not isinstance(value.get("message"), str):
            raise ValueError("run_agent expects {'message': str, ...} or a plain string")
        schema = value.get("response_schema")
        return RunOperation(
            correlation_id=str(
                value.get("correlationId") or value.get("correlation_id") or new_correlation_id()
            ),
            message=value["message"],
            role=str(value.get("role") or "user"),
            enable_tool_calls=value.get("enable_tool_calls") is not False,
            response_schema=schema if isinstance(schema, Mapping) else None,
            if_match=value.get("if_match"),
            nonce=str(value.get("nonce") or ""),
            fingerprint=str(value.get("fingerprint") or ""),
            stream=value.get("stream") is True,
        )


def reply_text(record: TurnRecord) -> str:
    """The reply as text: the structured value as JSON, else the response's text."""
    if record.value is not None:
        return json.dumps(record.value, ensure_ascii=False)
    if record.reply is None:
        return ""
    return AgentResponse.from_dict(record.reply).text


def run_result(record: TurnRecord, session: str, *, structured: bool, text: str | None = None) -> RunResult:
    """The 200 body of ``POST /agents/{name}/run`` for a successful turn (seed shape + aliases).

    ``text`` is :func:`reply_text` of the record when the caller has it already.
    """
    session_id = SessionId(session)
    correlation_id = CorrelationId(record.request_id)
    return RunResult(
        response=record.value if structured else (text if text is not None else reply_text(record)),
        message=text_of(record.user),
        sessionId=session_id,
        status="success",
        message_count=record.turn,
        correlationId=correlation_id,
        session_id=session_id,
        correlation_id=correlation_id,
        turn=record.turn,
    )
