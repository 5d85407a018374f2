"""The orchestrator's answer: ``OrchestratorState.to_json_string`` parsed into flat actions.

Why a module of its own: the request side (history events, ``orchestration_json``) and the answer
side change for different reasons; the engine de-duplicates replayed actions against history by
the order :func:`parse_response` yields them in (protocol.md §4.4).

Invariant: actions come out *flattened in the order the SDK allocated their sequence numbers*
(compound ``WhenAny``/``WhenAll`` children depth first, V1 per-yield lists concatenated).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from durableagent.local.wire.orchestration_events import OUT_OF_PROC_MARKER, ActionType


@dataclass(frozen=True)
class Action:
    """One leaf action (compound actions are flattened away); ``raw`` keeps every wire field."""

    type: ActionType
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def consumes_sequence(self) -> bool:
        """Every action but WaitForExternalEvent takes a sequence number (its task id is the name)."""
        return self.type is not ActionType.WAIT_FOR_EXTERNAL_EVENT

    def text(self, key: str) -> str | None:
        """The wire field ``key`` if it is a string, else None."""
        value = self.raw.get(key)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class OrchestratorResponse:
    """The decoded answer of one orchestrator invocation."""

    is_done: bool
    actions: tuple[Action, ...]
    output: Any = None
    error: str | None = None
    custom_status: Any = None
    has_custom_status: bool = False
    schema_version: int = 0


class ResponseError(ValueError):
    """The function's answer is not a valid orchestrator response (an invocation failure)."""


def parse_response(text: str | bytes) -> OrchestratorResponse:
    """Parse ``OrchestratorState.to_json_string`` output (V1 or V2/V3 ``schemaVersion``)."""
    try:
        doc: Any = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ResponseError("orchestrator response is not JSON") from exc
    if not isinstance(doc, dict):
        raise ResponseError("orchestrator response is not a JSON object")
    schema = doc.get("schemaVersion", 0)
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise ResponseError("schemaVersion is not an integer")
    raw_actions = doc.get("actions", [])
    if not isinstance(raw_actions, list) or not all(isinstance(group, list) for group in raw_actions):
        raise ResponseError("actions is not a list of lists")
    if schema >= 1 and len(raw_actions) > 1:
        raise ResponseError("schema V2/V3 expects exactly one outer action list")
    flat: list[Action] = []
    for group in raw_actions:
        _flatten(group, flat)
    error = doc.get("error")
    return OrchestratorResponse(
        is_done=bool(doc.get("isDone", False)),
        actions=tuple(flat),
        output=doc.get("output"),
        error=str(error) if error else None,
        custom_status=doc.get("customStatus"),
        has_custom_status="customStatus" in doc,
        schema_version=schema,
    )


def _flatten(items: Sequence[Any], into: list[Action]) -> None:
    for item in items:
        if not isinstance(item, dict):
            raise ResponseError("action is not an object")
        code = item.get("actionType")
        if not isinstance(code, int) or isinstance(code, bool):
            raise ResponseError("actionType is not an integer")
        try:
            kind = ActionType(code)
        except ValueError as exc:
            raise ResponseError("unknown actionType") from exc
        if kind in (ActionType.WHEN_ANY, ActionType.WHEN_ALL):
            children = item.get("compoundActions", [])
            if not isinstance(children, list):
                raise ResponseError("compoundActions is not a list")
            _flatten(children, into)
        else:
            into.append(Action(kind, item))


def split_failure(message: str) -> tuple[str, OrchestratorResponse | None]:
    r"""Split the exception text the SDK raises when the orchestrator threw.

    ``TaskOrchestrationExecutor`` raises ``Exception(f"{exc}\n\n$OutOfProcData$:{state json}")``;
    the extension parses the state after the marker (``OutOfProcMiddleware``). Returns the leading
    message and the parsed state, or ``(message, None)`` when there is no (valid) marker.
    """
    head, marker, tail = message.partition(OUT_OF_PROC_MARKER)
    if not marker:
        return message, None
    try:
        return head, parse_response(tail)
    except ResponseError:
        return head, None
