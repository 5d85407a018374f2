"""The seed's public classes on today's agent-framework types: AgentState, AgentSessionId, exports."""

from __future__ import annotations

import azure.durable_functions as df
import pytest
from agent_framework import AgentResponse, Content, Message, UsageDetails

import durableagent
from durableagent import AgentSessionId, AgentState, UnsupportedStateVersionError


def test_exported_members_are_the_public_surface() -> None:
    assert sorted(durableagent.__all__) == sorted(
        [
            "AgentCallbackContext",
            "AgentFunctionApp",
            "AgentResponseCallbackProtocol",
            "AgentRunError",
            "AgentSessionId",
            "AgentState",
            "AppOptions",
            "DurableAIAgent",
            "UnsupportedStateVersionError",
            "get_agent",
        ]
    )
    for name in durableagent.__all__:
        assert getattr(durableagent, name).__name__ == name


def _response() -> AgentResponse:
    return AgentResponse(
        messages=[
            Message(
                role="assistant",
                contents=[
                    Content.from_function_call(
                        call_id="c1", name="get_weather", arguments={"location": "Paris"}
                    )
                ],
            ),
            Message(role="tool", contents=[Content.from_function_result(call_id="c1", result={"t": 20})]),
            Message(role="assistant", contents=["Hi there!"]),
        ],
        response_id="123",
        usage_details=UsageDetails(input_token_count=45, output_token_count=12, total_token_count=57),
    )


def test_agent_state_round_trips_tool_calls_and_usage() -> None:
    state = AgentState()
    state.add_user_message("Hello!", correlation_id="corr-123")
    state.add_assistant_message("Hi there!", _response())
    serialized = state.get_state()
    assert serialized["schema_version"] == 2
    assert serialized["message_count"] == 1
    restored = AgentState()
    restored.restore_state(serialized)
    assert restored.get_state() == serialized
    reply = restored.conversation_history[1]
    response = AgentResponse.from_dict(reply.additional_properties["agent_response"])
    assert response.usage_details == {
        "input_token_count": 45,
        "output_token_count": 12,
        "total_token_count": 57,
    }
    assert response.messages[0].contents[0].name == "get_weather"
    assert restored.last_response == "Hi there!"


def test_agent_state_model_messages_skip_failed_turns() -> None:
    state = AgentState()
    state.add_user_message("ok", correlation_id="a")
    state.add_assistant_message(
        "fine", AgentResponse(messages=[Message(role="assistant", contents=["fine"])])
    )
    state.add_user_message("boom", correlation_id="b")
    state.add_error({"type": "t", "title": "failed", "status": 500}, correlation_id="b")
    assert [(m.role, m.text) for m in state.model_messages()] == [("user", "ok"), ("assistant", "fine")]


def test_agent_state_refuses_unknown_versions_and_resets() -> None:
    state = AgentState()
    with pytest.raises(UnsupportedStateVersionError):
        state.restore_state({"schema_version": 7, "conversation_history": []})
    state.add_user_message("x", correlation_id="c")
    state.reset()
    assert state.get_state()["conversation_history"] == []
    assert state.message_count == 0


def test_session_id_forms() -> None:
    session = AgentSessionId(name="AgentEntity", key="user-123")
    assert str(session) == "@AgentEntity@user-123"
    assert AgentSessionId.parse("@AgentEntity@user-123") == session
    entity_id = session.to_entity_id()
    assert isinstance(entity_id, df.EntityId)
    assert entity_id.key == "user-123"
    assert AgentSessionId.from_entity_id(entity_id) == session
    random_one = AgentSessionId.with_random_key("AgentEntity")
    assert len(random_one.key) == 32
    assert random_one.key != AgentSessionId.with_random_key("AgentEntity").key


@pytest.mark.parametrize("bad", ["a@b", "a/b", "a\n", "", "x" * 129, "a b", "a#b", "..", "a\x00"])
def test_session_id_rejects_unsafe_keys(bad: str) -> None:
    with pytest.raises(ValueError):
        AgentSessionId(name="Agent", key=bad)
    with pytest.raises(ValueError):
        AgentSessionId.parse(f"@Agent@{bad}")
