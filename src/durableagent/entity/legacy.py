"""Reading state written by durableagent 0.0.2b1 (Agent Framework beta types).

0.0.2b1 stored ``ChatMessage.to_dict()`` / ``AgentRunResponse.to_dict()`` of a beta whose
serialization differs from today's ``Message``/``AgentResponse`` (roles as ``{"value": ...}``
objects, ``chat_message``/``agent_run_response`` type tags, ``usage_details`` objects). This module
converts those dicts leniently, keeping text, tool calls, usage and the per-message metadata
(``timestamp``, ``correlation_id``) so an old session keeps its history after an upgrade.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_framework import AgentResponse, Content, Message, UsageDetails

_USAGE_KEYS = ("input_token_count", "output_token_count", "total_token_count")


def _role(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("value")
    return str(value or "user").lower()


def _content(data: Any) -> Content | None:
    if isinstance(data, str):
        return Content.from_text(data)
    if not isinstance(data, Mapping):
        return None
    kind = str(data.get("type", "")).replace("_content", "")
    if kind == "text":
        return Content.from_text(str(data.get("text", "")))
    if kind == "function_call":
        return Content.from_function_call(
            call_id=str(data.get("call_id", "")),
            name=str(data.get("name", "")),
            arguments=data.get("arguments"),
        )
    if kind == "function_result":
        return Content.from_function_result(call_id=str(data.get("call_id", "")), result=data.get("result"))
    return None


def _usage(data: Any) -> UsageDetails | None:
    if not isinstance(data, Mapping):
        return None
    values = {k: data[k] for k in _USAGE_KEYS if isinstance(data.get(k), int)}
    return UsageDetails(**values) if values else None  # type: ignore[typeddict-item]


def legacy_response(data: Mapping[str, Any]) -> AgentResponse:
    """An ``AgentResponse`` from a beta ``AgentRunResponse.to_dict()``."""
    messages = [legacy_message(m) for m in data.get("messages") or [] if isinstance(m, Mapping)]
    return AgentResponse(
        messages=messages,
        response_id=data.get("response_id"),
        usage_details=_usage(data.get("usage_details")),
    )


def legacy_message(data: Mapping[str, Any]) -> Message:
    """A ``Message`` from a beta ``ChatMessage.to_dict()`` (or today's form, which also parses)."""
    contents = [c for c in (_content(x) for x in data.get("contents") or []) if c is not None]
    if not contents and isinstance(data.get("text"), str):
        contents = [Content.from_text(data["text"])]
    props = dict(data.get("additional_properties") or {})
    response = props.get("agent_response")
    if isinstance(response, Mapping):
        props["agent_response"] = legacy_response(response).to_dict()
    return Message(
        role=_role(data.get("role")),
        contents=contents or [Content.from_text("")],
        author_name=data.get("author_name"),
        additional_properties=props,
    )
