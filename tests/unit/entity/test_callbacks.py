"""Callbacks are called for real during a run, a failing callback never fails the turn, and a
streaming failure is never retried as a second (non-streaming) model call."""

from __future__ import annotations

from typing import Any

from agent_framework import AgentResponse, AgentResponseUpdate

from durableagent.callbacks import AgentCallbackContext

from .conftest import CountingModel, Harness


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.updates: list[str] = []
        self.responses: list[str] = []
        self.contexts: list[AgentCallbackContext] = []
        self.fail = fail

    async def on_streaming_response_update(
        self, update: AgentResponseUpdate, context: AgentCallbackContext
    ) -> None:
        self.updates.append(update.text)
        if self.fail:
            raise RuntimeError("callback bug with sk-test-SECRET")

    async def on_agent_response(self, response: AgentResponse, context: AgentCallbackContext) -> None:
        self.responses.append(response.text)
        self.contexts.append(context)


def test_callbacks_see_every_update_and_the_final_response() -> None:
    recorder = Recorder()
    harness = Harness(callback=recorder)
    result = harness.turn("stream this reply", "c1")
    text = result["reply"]["response"]
    assert "".join(recorder.updates) == text
    assert len([u for u in recorder.updates if u]) > 3
    assert recorder.responses == [text]
    assert recorder.contexts[0] == AgentCallbackContext("WeatherAgent", "c1", "s1", "stream this reply")
    assert recorder.contexts[0].session_id == "s1"


def test_a_failing_callback_does_not_fail_the_turn() -> None:
    harness = Harness(callback=Recorder(fail=True))
    assert harness.turn("hello", "c1")["status"] == 200


def test_a_streaming_failure_is_not_retried_without_streaming() -> None:
    recorder = Recorder()
    harness = Harness(callback=recorder)
    result = harness.turn("boom #fail:error", "c1")
    assert result["status"] == 500
    assert CountingModel.calls == 1
    assert recorder.responses == []


def test_only_a_response_callback_means_no_streaming() -> None:
    class ResponsesOnly:
        def __init__(self) -> None:
            self.seen: list[Any] = []

        async def on_agent_response(self, response: AgentResponse, context: AgentCallbackContext) -> None:
            self.seen.append(response.text)

    callback = ResponsesOnly()
    harness = Harness(callback=callback)
    result = harness.turn("hello", "c1")
    assert callback.seen == [result["reply"]["response"]]
