"""What one ``DurableAIAgent.run`` call sends to the session entity, derived deterministically.

Why deterministic: an orchestrator function is replayed from its history every time it wakes up.
Everything it computes must come out the same on every replay, so the request id of a call is a
function of the orchestration's identity and the call's position, never a random value or a clock
read: ``orch-`` + the first 128 bits of SHA-256 over (instance id, the execution's start time, the
index of this ``run`` call in the execution). The start time (the ``ExecutionStarted`` event)
separates the generations of ``continue_as_new``, which keep the instance id but restart the
positions. A replay re-sends the same id, and the entity's request ledger answers a known id from
its ledger instead of running the agent again: exactly once per call.

The entity input is the HTTP route's ``run_agent`` input (``entity.turn_io.RunOperation``) plus
``orchestration_id``, which asks the entity for the whole ``AgentResponse`` in its result.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent_framework import normalize_messages
from azure.durable_functions.models.history import HistoryEventType
from pydantic import BaseModel

from durableagent.contract.limits import Limits, check_response_schema
from durableagent.contract.problem_base import Problem
from durableagent.entity.turn_io import RunOperation

_KNOWN_OPTIONS = ("response_format", "enable_tool_calls", "wait_for_response")
_positions: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def next_request_id(context: Any) -> str:
    """The request id of the next ``run`` call of this orchestrator execution (replay-stable)."""
    position = _positions.get(context, 0)
    _positions[context] = position + 1
    seed = f"{context.instance_id}\n{_execution_started(context)}\n{position}"
    return "orch-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]


def _execution_started(context: Any) -> str:
    """The timestamp of the execution's ``ExecutionStarted`` event ("" when history has none)."""
    for event in getattr(context, "histories", None) or ():
        if getattr(event, "event_type", None) == HistoryEventType.EXECUTION_STARTED:
            return str(getattr(event, "timestamp", ""))
    return ""


def normalize_text(messages: Any) -> str:
    """The messages as one text (joined with newlines), as the reference line sends them.

    Raises:
        ValueError: a message without text (images, function calls) or an empty input.
    """
    texts = []
    for message in normalize_messages(messages):
        if not message.text:
            raise ValueError("a durable agent takes text messages only")
        texts.append(message.text)
    if not texts:
        raise ValueError("a durable agent run needs a message")
    return "\n".join(texts)


@dataclass(frozen=True)
class RunSpec:
    """The options of one run, validated: the structured output format and the switches."""

    response_format: type[BaseModel] | Mapping[str, Any] | None
    response_schema: Mapping[str, Any] | None
    enable_tool_calls: bool
    wait_for_response: bool

    @staticmethod
    def from_options(options: Mapping[str, Any] | None) -> RunSpec:
        """Read and check the run options.

        ``response_format`` (a pydantic model class or a JSON Schema dict), ``enable_tool_calls``
        and ``wait_for_response`` (both default True).

        Raises:
            ValueError: an option durableagent cannot honour (an unknown key, a response format that
                is neither a model class nor a schema within the contract's limits).
        """
        options = dict(options or {})
        unknown = sorted(set(options) - set(_KNOWN_OPTIONS))
        if unknown:
            raise ValueError(f"unsupported run options {unknown}; supported: {list(_KNOWN_OPTIONS)}")
        fmt = options.get("response_format")
        schema: Mapping[str, Any] | None = None
        if isinstance(fmt, type) and issubclass(fmt, BaseModel):
            schema = fmt.model_json_schema()
        elif isinstance(fmt, Mapping):
            schema = dict(fmt)
        elif fmt is not None:
            raise ValueError("response_format must be a pydantic model class or a JSON Schema dict")
        if schema is not None:
            try:
                check_response_schema(schema, Limits(), at="/options/response_format")
            except Problem as problem:
                raise ValueError(f"response_format is not an acceptable schema: {problem.detail}") from None
        return RunSpec(
            response_format=fmt,
            response_schema=schema,
            enable_tool_calls=options.get("enable_tool_calls", True) is not False,
            wait_for_response=options.get("wait_for_response", True) is not False,
        )


def entity_input(request_id: str, message: str, spec: RunSpec, orchestration_id: str) -> dict[str, Any]:
    """The ``run_agent`` operation input for the session entity (nonce fixed: replay-stable)."""
    op = RunOperation(
        correlation_id=request_id,
        message=message,
        enable_tool_calls=spec.enable_tool_calls,
        response_schema=spec.response_schema,
        nonce=request_id[-16:],
    )
    return {**op.to_input(), "orchestration_id": orchestration_id}
