"""The offline model's documented rules: replies, tool calls, structured output, streaming, faults."""

from __future__ import annotations

import json
from typing import Any

import pytest
from agent_framework import Agent, AgentSession

from durableagent.offline.model import OfflineChatClient, OfflineServiceError
from tests.agent_loop_sync import run_sync


def get_weather(location: str) -> dict[str, Any]:
    """Weather."""
    return {"location": location, "temperature": 72}


def _agent(**kwargs: Any) -> Agent:
    return Agent(OfflineChatClient(**kwargs), name="W", tools=[get_weather])


def test_replies_count_the_user_messages_it_was_sent() -> None:
    agent, session = _agent(), AgentSession()
    run_sync(agent.run("hi", session=session))
    reply = run_sync(agent.run("again", session=session))
    assert reply.text == "You said: 'again'. This is offline reply #2 in this conversation."


def test_calls_a_tool_named_in_the_message_and_reports_the_result() -> None:
    reply = run_sync(_agent().run("weather in New York please"))
    assert reply.text == "Here is what I found: location=New York, temperature=72."
    assert [m.role for m in reply.messages] == ["assistant", "tool", "assistant"]


def test_structured_output_follows_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "n": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        },
        "required": ["city", "n"],
    }
    reply = run_sync(_agent().run("3 days in Rome", options={"response_format": schema}))
    assert json.loads(reply.text) == {"city": "Rome", "n": 3, "tags": ["Rome", "Rome"]}


def test_streams_word_by_word() -> None:
    async def collect() -> tuple[list[str], str]:
        stream = _agent().run("one two", stream=True)
        chunks = [u.text async for u in stream]
        return chunks, (await stream.get_final_response()).text

    chunks, final = run_sync(collect())
    assert "".join(chunks) == final
    assert len([c for c in chunks if c]) > 3


def test_faults_only_when_enabled() -> None:
    assert "#fail:transient" in run_sync(_agent().run("#fail:transient")).text
    with pytest.raises(OfflineServiceError) as info:
        run_sync(_agent(faults=True).run("#fail:transient"))
    assert info.value.status_code == 503


def test_offline_schema_filling_is_bounded() -> None:
    from durableagent.offline.rules import MAX_ITEMS, MAX_STRING, MAX_VALUES, sample_from_schema

    huge = sample_from_schema({"type": "array", "minItems": 3_000_000, "items": {"type": "integer"}}, "n 7")
    assert huge == [7] * MAX_ITEMS
    assert len(sample_from_schema({"type": "string", "minLength": 10**9}, "x")) == MAX_STRING
    nested: dict[str, object] = {"type": "string"}
    for _ in range(6):
        nested = {"type": "array", "minItems": 1000, "items": nested}
    flat = str(sample_from_schema(nested, "x"))
    assert flat.count("'x'") < MAX_VALUES  # 64^6 asked for, a few thousand made
    assert sample_from_schema({"type": "array", "minItems": 2, "items": {"type": "boolean"}}, "") == [
        True,
        True,
    ]
