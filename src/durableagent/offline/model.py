"""A deterministic, network-free chat client: the offline model.

What it is: a stand-in for a language model, for tests, demos and benchmarks. It does not understand
language. It follows simple, documented rules so that every reply can be predicted from the input:

* It answers ``You said: '<message>'. This is offline reply #N in this conversation.`` where N counts
  the user messages it was sent, so a test can see whether the session's history reached it.
* When tool calls are allowed and a word of a tool's name (``weather`` in ``get_weather``) appears in
  the user's message, it calls that tool, filling string arguments from the message ("in Seattle"
  gives ``location="Seattle"``) and numbers from the numbers in it; after the tool results come
  back it reports them.
* With ``response_format`` (a JSON Schema dict or a pydantic model) it returns JSON built from the
  schema (``required`` properties, enums, consts, types).
* Streaming yields the reply word by word, ``chunk_delay`` seconds apart (default 0; the
  ``DURABLEAGENT_OFFLINE_CHUNK_DELAY_MS`` setting), so streams can be watched arrive in pieces.

Fault injection (only when ``faults=True`` or ``DURABLEAGENT_OFFLINE_FAULTS=1``): directives in the
last user message, e.g. ``#fail:transient`` (a 503 from the "service"), ``#fail:timeout``,
``#fail:rejected`` (a 400), ``#fail:error`` (an unexpected error whose text contains a fake secret),
``#sleep:2.5``, ``#crash`` (``os._exit``), ``#bad-json`` (structured output that breaks its schema),
``#tool:NAME`` (call that tool). Never enable faults in a deployment: ``#crash`` ends the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from agent_framework import (
    BaseChatClient,
    ChatMiddlewareLayer,
    ChatResponse,
    ChatResponseUpdate,
    Content,
    FunctionInvocationLayer,
    Message,
    ResponseStream,
    UsageDetails,
)
from agent_framework.exceptions import ChatClientException
from agent_framework.observability import ChatTelemetryLayer

from durableagent.offline.rules import plan_tool_call, sample_from_schema, schema_of

FAULTS_ENV = "DURABLEAGENT_OFFLINE_FAULTS"
LATENCY_ENV = "DURABLEAGENT_OFFLINE_LATENCY_MS"
CHUNK_DELAY_ENV = "DURABLEAGENT_OFFLINE_CHUNK_DELAY_MS"
_DIRECTIVE = re.compile(r"#(fail|sleep|crash|bad-json|tool)(?::([A-Za-z0-9_.-]+))?")


class OfflineServiceError(ChatClientException):
    """What the offline "service" raises for injected faults; carries an HTTP-like status code."""

    def __init__(self, message: str, status_code: int, retry_after: float | None = None) -> None:
        """``status_code``: HTTP-like (503, 400); ``retry_after`` seconds if the fault has one."""
        super().__init__(message, log_level=None)
        self.status_code = status_code
        self.retry_after = retry_after


class _RawOfflineChatClient(BaseChatClient):
    OTEL_PROVIDER_NAME = "durableagent.offline"

    def __init__(
        self,
        *,
        latency: float | None = None,
        faults: bool | None = None,
        chunk_delay: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if latency is None:
            latency = float(os.environ.get(LATENCY_ENV, "0") or 0) / 1000.0
        if chunk_delay is None:
            chunk_delay = float(os.environ.get(CHUNK_DELAY_ENV, "0") or 0) / 1000.0
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.faults = faults if faults is not None else os.environ.get(FAULTS_ENV) == "1"

    def _inner_get_response(
        self, *, messages: Sequence[Message], stream: bool, options: Mapping[str, Any], **kwargs: Any
    ) -> Any:
        if stream:
            return ResponseStream(self._stream(messages, options), finalizer=ChatResponse.from_updates)
        return self._respond(messages, options)

    async def _stream(self, messages: Sequence[Message], options: Mapping[str, Any]) -> AsyncIterator[Any]:
        response = await self._respond(messages, options)
        for message in response.messages:
            if message.text and not any(c.type == "function_call" for c in message.contents):
                words = message.text.split(" ")
                for i, word in enumerate(words):
                    chunk = word if i == len(words) - 1 else word + " "
                    if i and self.chunk_delay > 0:
                        await asyncio.sleep(self.chunk_delay)
                    yield ChatResponseUpdate(role="assistant", contents=[Content.from_text(chunk)])
            else:
                yield ChatResponseUpdate(role="assistant", contents=list(message.contents))
        if response.usage_details:
            yield ChatResponseUpdate(role="assistant", contents=[Content.from_usage(response.usage_details)])

    async def _respond(self, messages: Sequence[Message], options: Mapping[str, Any]) -> ChatResponse:
        last = messages[-1] if messages else Message(role="user", contents=[""])
        user_text = last.text if last.role == "user" else _last_user_text(messages)
        directives = dict(_DIRECTIVE.findall(user_text)) if self.faults and last.role == "user" else {}
        delay = self.latency + (float(directives["sleep"]) if "sleep" in directives else 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        self._inject_faults(directives)
        if last.role == "tool":
            report = _report_tool_results(last)
            return self._reply(report, report, messages, options, directives)
        tools = list(options.get("tools") or []) if options.get("tool_choice") != "none" else []
        call = plan_tool_call(user_text, tools, forced=directives.get("tool"))
        if call is not None:
            name, arguments = call
            contents = [
                Content.from_function_call(call_id=f"call_{len(messages)}", name=name, arguments=arguments)
            ]
            return ChatResponse(
                messages=[Message(role="assistant", contents=contents)],
                usage_details=_usage(messages, json.dumps(arguments)),
            )
        n = sum(1 for m in messages if m.role == "user")
        text = f"You said: '{user_text}'. This is offline reply #{n} in this conversation."
        return self._reply(text, user_text, messages, options, directives)

    def _reply(
        self,
        text: str,
        source: str,
        messages: Sequence[Message],
        options: Mapping[str, Any],
        directives: Mapping[str, str],
    ) -> ChatResponse:
        """A text reply, or JSON filled from ``source`` when a response format is requested."""
        schema = schema_of(options.get("response_format"))
        if schema is not None:
            value = {"unexpected": True} if "bad-json" in directives else sample_from_schema(schema, source)
            text = json.dumps(value)
        return ChatResponse(
            messages=[Message(role="assistant", contents=[Content.from_text(text)])],
            usage_details=_usage(messages, text),
            response_format=options.get("response_format"),
        )

    @staticmethod
    def _inject_faults(directives: Mapping[str, str]) -> None:
        kind = directives.get("fail")
        if "crash" in directives:
            os._exit(137)
        if kind == "transient":
            raise OfflineServiceError("offline model: service unavailable", 503, retry_after=1)
        if kind == "timeout":
            raise TimeoutError("offline model: timed out")
        if kind == "rejected":
            raise OfflineServiceError("offline model: request rejected", 400)
        if kind == "error":
            raise RuntimeError("offline model failure; api_key=sk-test-SECRET-0000 at /srv/app/secret.py")


class OfflineChatClient(
    FunctionInvocationLayer[Any], ChatMiddlewareLayer[Any], ChatTelemetryLayer[Any], _RawOfflineChatClient
):
    """The offline model plus the framework's tool-calling, middleware and telemetry layers."""


def _last_user_text(messages: Sequence[Message]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.text
    return ""


def _report_tool_results(message: Message) -> str:
    parts = []
    for content in message.contents:
        if content.type == "function_result":
            result = content.result
            if isinstance(result, str):
                with contextlib.suppress(ValueError):
                    result = json.loads(result)
            if isinstance(result, Mapping):
                result = ", ".join(f"{k}={v}" for k, v in result.items())
            parts.append(str(result))
    return "Here is what I found: " + "; ".join(parts) + "."


@functools.lru_cache(maxsize=65_536)
def _words(text: str) -> int:
    return len(text.split())


def _usage(messages: Sequence[Message], output: str) -> UsageDetails:
    # The words of each message's text: ``len(" ".join(texts).split())`` equals the sum over the
    # texts, and each text is counted once (history messages share their Content objects and
    # their strings across turns), so the prompt count does not cost O(history) string splitting.
    prompt = sum(_words(c.text) for m in messages for c in m.contents if c.type == "text" and c.text)
    completion = len(output.split())
    return UsageDetails(
        input_token_count=prompt, output_token_count=completion, total_token_count=prompt + completion
    )
