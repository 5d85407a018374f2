"""A turn's stream in the AG-UI vocabulary, built with the ``ag-ui-protocol`` package's models.

Why: chat front ends already speak AG-UI (https://docs.ag-ui.com/concepts/events), so a streamed turn
is a run of AG-UI events: RUN_STARTED, TEXT_MESSAGE_START/CONTENT/END, TOOL_CALL_START/ARGS/END and
TOOL_CALL_RESULT, RUN_FINISHED (``result`` is the turn's 200 body) or RUN_ERROR (``code`` the
problem's slug, ``rawEvent`` the problem object). What AG-UI has no event for is a CUSTOM event
named ``durableagent.*``: ``durableagent.turn`` (session id, correlation id, turn number, attempt),
``durableagent.turn_restarted`` (a new attempt: text of the open messages is to be discarded),
``durableagent.usage`` and ``durableagent.stream_truncated``.

:class:`EventMapper` turns the agent's streaming updates (``AgentResponseUpdate``) into those
events, keeping which text message and tool calls are open so every START gets its END.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    RunErrorEvent,
    RunFinishedEvent,
    RunStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)
from agent_framework import AgentResponseUpdate

TURN, RESTARTED, USAGE, TRUNCATED = (
    "durableagent.turn",
    "durableagent.turn_restarted",
    "durableagent.usage",
    "durableagent.stream_truncated",
)
TERMINAL_TYPES = frozenset({"RUN_FINISHED", "RUN_ERROR"})


def event_json(event: BaseEvent) -> str:
    """The event's wire JSON (camelCase, unset fields left out), as AG-UI's own encoder writes it."""
    return event.model_dump_json(by_alias=True, exclude_none=True)


def new_message_id() -> str:
    """A fresh message id for a text message or a tool result."""
    return "msg_" + secrets.token_hex(8)


def run_started(session: str, correlation_id: str, turn: int, attempt: int) -> list[BaseEvent]:
    """RUN_STARTED and the ``durableagent.turn`` details."""
    details = {"sessionId": session, "correlationId": correlation_id, "turn": turn, "attempt": attempt}
    return [
        RunStartedEvent(thread_id=session, run_id=correlation_id),
        CustomEvent(name=TURN, value=details),
    ]


def restarted(turn: int, attempt: int, discard: list[str], reason: str) -> BaseEvent:
    """The explicit notice that the turn runs again: the messages in ``discard`` are void."""
    value = {"turn": turn, "attempt": attempt, "discardMessageIds": discard, "reason": reason}
    return CustomEvent(name=RESTARTED, value=value)


def run_finished(session: str, correlation_id: str, reply: Mapping[str, Any]) -> BaseEvent:
    """RUN_FINISHED with the turn's 200 body as its ``result``."""
    return RunFinishedEvent(thread_id=session, run_id=correlation_id, result=dict(reply))


def run_error(problem: Mapping[str, Any]) -> BaseEvent:
    """RUN_ERROR for the turn's problem (same type and status as the JSON route answers)."""
    slug = str(problem.get("type", "")).rsplit("/", 1)[-1] or "error"
    message = str(problem.get("detail") or problem.get("title") or "The turn failed.")
    return RunErrorEvent(message=message, code=slug, raw_event=dict(problem))


def text_message(text: str) -> list[BaseEvent]:
    """A whole text message (a turn replayed from its transcript)."""
    mid = new_message_id()
    return [
        TextMessageStartEvent(message_id=mid, role="assistant"),
        TextMessageContentEvent(message_id=mid, delta=text),
        TextMessageEndEvent(message_id=mid),
    ]


def _arguments(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class EventMapper:
    """Streaming updates in, AG-UI events out; tracks the open text message and tool calls."""

    def __init__(self) -> None:
        """Nothing open yet."""
        self.text_id: str | None = None
        self.tools: list[str] = []  # open tool call ids, in start order

    def open_ids(self) -> list[str]:
        """The open text message and tool calls (what a restart discards)."""
        return ([self.text_id] if self.text_id else []) + list(self.tools)

    def update(self, update: AgentResponseUpdate) -> list[BaseEvent]:
        """The events of one ``AgentResponseUpdate``."""
        out: list[BaseEvent] = []
        for content in getattr(update, "contents", None) or ():
            kind = getattr(content, "type", None)
            if kind == "text" and content.text:
                if self.text_id is None:
                    out.extend(self._close_tools())
                    self.text_id = new_message_id()
                    out.append(TextMessageStartEvent(message_id=self.text_id, role="assistant"))
                out.append(TextMessageContentEvent(message_id=self.text_id, delta=content.text))
            elif kind == "function_call" and content.call_id:
                out.extend(self._close_text())
                if content.call_id not in self.tools:
                    self.tools.append(content.call_id)
                    out.append(
                        ToolCallStartEvent(
                            tool_call_id=content.call_id, tool_call_name=content.name or "tool"
                        )
                    )
                args = _arguments(content.arguments)
                if args:
                    out.append(ToolCallArgsEvent(tool_call_id=content.call_id, delta=args))
            elif kind == "function_result" and content.call_id:
                out.extend(self._close_text())
                if content.call_id in self.tools:
                    self.tools.remove(content.call_id)
                    out.append(ToolCallEndEvent(tool_call_id=content.call_id))
                result = _arguments(content.result)
                out.append(
                    ToolCallResultEvent(
                        message_id=new_message_id(), tool_call_id=content.call_id, content=result, role="tool"
                    )
                )
            elif kind == "usage" and getattr(content, "usage_details", None):
                out.append(CustomEvent(name=USAGE, value=dict(content.usage_details)))
        return out

    def close(self) -> list[BaseEvent]:
        """END events for whatever is still open."""
        return [*self._close_text(), *self._close_tools()]

    def _close_text(self) -> list[BaseEvent]:
        if self.text_id is None:
            return []
        done, self.text_id = self.text_id, None
        return [TextMessageEndEvent(message_id=done)]

    def _close_tools(self) -> list[BaseEvent]:
        done, self.tools = self.tools, []
        return [ToolCallEndEvent(tool_call_id=t) for t in done]

    def close_given(self, texts: list[str], tools: list[str]) -> list[BaseEvent]:
        """END events for the messages and tool calls an earlier attempt left open."""
        return [
            *(TextMessageEndEvent(message_id=t) for t in texts),
            *(ToolCallEndEvent(tool_call_id=t) for t in tools),
        ]
