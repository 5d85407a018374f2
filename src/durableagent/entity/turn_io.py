"""A turn's input and its result: the ``run_agent`` operation and the run result (the HTTP 200 body).

Both cross the seam between the HTTP routes and the session entity. The route and the entity
compute the same fingerprint of an operation (a SHA-256 of the canonical JSON of what the turn
means: message, role, tool switch, response schema), so a retried request with the same
``Idempotency-Key`` is recognized, and a different request reusing the key is refused (422). The
run result is built from the committed ``TurnRecord``, so an idempotent replay, a ``Location`` poll
and the original response are the same answer; it is the contract's generated ``RunResult``, so a
field renamed in openapi.yaml breaks the type check here, not a client.
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
