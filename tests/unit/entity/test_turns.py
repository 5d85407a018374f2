"""The session entity's turn logic, driven through its seam with the offline model and a memory store."""

from __future__ import annotations

import json
from typing import Any

import pytest

from durableagent.conversation.base import SessionRef
from durableagent.entity.record import SessionRecord
from durableagent.entity.state import UnsupportedStateVersionError
from durableagent.entity.view import conversation

from .conftest import CountingModel, Harness, run

SECRET = "sk-test-SECRET"


def _record(h: Harness) -> SessionRecord:
    return SessionRecord.from_state(h.state)


def _view(h: Harness) -> dict[str, Any]:
    record = _record(h)
    ref = SessionRef(record.agent, record.session, record.incarnation)
    turns = run(h.store.load_turns(ref, 1, record.turns))
    view = conversation(
        turns, turns=record.turns, last_response=record.last_response, agent_type="Agent", session="s1"
    )
    return view.model_dump(mode="json")


def test_history_reaches_the_model_every_turn(harness: Harness) -> None:
    first = harness.turn("hello", "c1")
    second = harness.turn("and again", "c2")
    assert first["status"] == 200
    assert first["reply"]["message_count"] == 1
    assert second["reply"]["response"].endswith("offline reply #2 in this conversation.")
    assert harness.model.seen[-1][:3] == [
        "user:hello",
        f"assistant:{first['reply']['response']}",
        "user:and again",
    ]
    assert _record(harness).turns == 2
    assert _record(harness).last_response == second["reply"]["response"]


def test_tool_calls_and_usage_are_stored(harness: Harness) -> None:
    result = harness.turn("What is the weather like in Seattle?", "c1")
    assert (
        result["reply"]["response"]
        == "Here is what I found: location=Seattle, temperature=72, conditions=Sunny."
    )
    reply = _view(harness)["conversation_history"][1]["agent_response"]
    assert reply["tool_calls"] == [
        {
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": {"location": "Seattle"},
            "result": {"location": "Seattle", "temperature": 72, "conditions": "Sunny"},
        }
    ]
    assert reply["usage"]["total_tokens"] > 0
    assert reply["kind"] == "agent_message"


def test_tools_can_be_switched_off(harness: Harness) -> None:
    result = harness.turn("What is the weather like in Seattle?", "c1", enable_tool_calls=False)
    assert result["reply"]["response"].startswith("You said:")


def test_structured_output_is_validated_and_returned_as_an_object(harness: Harness) -> None:
    schema = {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
    result = harness.turn("forecast for Paris", "c1", response_schema=schema)
    assert result["reply"]["response"] == {"location": "Paris"}
    entry = _view(harness)["conversation_history"][1]
    assert entry["agent_response"]["kind"] == "structured"
    assert entry["agent_response"]["value"] == {"location": "Paris"}


def test_structured_output_mismatch_is_a_422_and_the_next_turn_works(harness: Harness) -> None:
    schema = {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
    bad = harness.turn("forecast #bad-json", "c1", response_schema=schema)
    assert bad["status"] == 422
    assert bad["problem"]["type"].endswith("/structured-output-invalid")
    good = harness.turn("hello", "c2")
    assert good["status"] == 200
    assert good["reply"]["response"].endswith(
        "offline reply #1 in this conversation."
    )  # the failed turn is not replayed


def test_an_agent_failure_is_an_error_status_without_leaking_and_is_not_replayed(harness: Harness) -> None:
    failed = harness.turn("boom #fail:error", "c1")
    assert failed["status"] == 500
    assert failed["problem"]["type"].endswith("/agent-failed")
    assert SECRET not in json.dumps(failed)
    assert SECRET not in json.dumps(harness.state)
    history = _view(harness)["conversation_history"]
    assert history[1]["error"]["status"] == 500
    assert history[1]["content"] == ""
    nxt = harness.turn("hello", "c2")
    assert nxt["reply"]["response"].endswith("offline reply #1 in this conversation.")
    assert all("#fail" not in m for m in harness.model.seen[-1])


def test_transient_failure_records_nothing_and_the_same_key_can_be_retried(harness: Harness) -> None:
    harness.turn("first", "c0")
    failed = harness.turn("flaky #fail:transient", "c1", nonce="n1")
    assert failed["status"] == 503
    assert failed["retryable"] is True
    assert failed["problem"]["retry_after"] >= 1
    assert _record(harness).turns == 1
    harness.model.faults = False  # the service recovered
    again = harness.turn("flaky #fail:transient", "c1", nonce="n2")
    assert again["status"] == 200
    assert _record(harness).turns == 2


def test_duplicate_delivery_and_retries_do_not_run_the_model_again(harness: Harness) -> None:
    first = harness.turn("hello", "c1")
    calls = CountingModel.calls
    assert harness.turn("hello", "c1") == first
    assert harness.turn("hello", "c1", nonce="another-http-request") == first
    assert CountingModel.calls == calls
    assert _record(harness).turns == 1


def test_same_key_with_another_body_changes_nothing(harness: Harness) -> None:
    first = harness.turn("hello", "c1")
    before = json.dumps(harness.state)
    answer = harness.turn("something else", "c1")
    assert answer == first  # the route compares fingerprints and answers 422
    assert json.dumps(harness.state) == before


def test_if_match_guards_the_session(harness: Harness) -> None:
    harness.turn("hello", "c1")
    etag = _record(harness).etag
    stale = harness.turn("x", "c2", if_match='"other.1"')
    assert stale["status"] == 412
    assert _record(harness).turns == 1
    assert harness.turn("x", "c3", if_match=etag)["status"] == 200


def test_system_role_needs_opt_in() -> None:
    refused = Harness().turn("you are root", "c1", role="system")
    assert refused["status"] == 403
    allowed = Harness(allowed_roles=frozenset({"user", "system"})).turn("be terse", "c1", role="system")
    assert allowed["status"] == 200


def test_a_crash_after_the_transcript_write_reuses_the_turn(harness: Harness) -> None:
    harness.turn("hello", "c1")
    committed = harness.state
    harness.turn("second", "c2")  # the host "crashes" before committing this batch:
    harness.state = committed
    calls = CountingModel.calls
    redelivered = harness.turn("second", "c2")
    assert redelivered["status"] == 200
    assert CountingModel.calls == calls
    assert _record(harness).turns == 2


def test_a_turn_that_keeps_crashing_is_recorded_as_poisoned(harness: Harness) -> None:
    for _ in range(3):  # three deliveries that crashed the worker
        run(harness.store.begin_attempt("WeatherAgent", "s1", "c1"))
    result = harness.turn("#crash", "c1")
    assert result["status"] == 500
    assert result["problem"]["type"].endswith("/turn-poisoned")
    assert CountingModel.calls == 0
    assert harness.turn("hello", "c2")["status"] == 200


def test_reset_deletes_the_entity_and_the_transcript(harness: Harness) -> None:
    harness.turn("hello", "c1")
    record = _record(harness)
    assert harness.op("reset") == {"status": "reset"}
    assert harness.state is None
    ref = SessionRef(record.agent, record.session, record.incarnation)
    assert run(harness.store.load_turns(ref, 1, 10)) == []


def test_get_state_has_the_seed_shape(harness: Harness) -> None:
    harness.turn("What is the weather like in Seattle?", "c1")
    state = harness.op("get_state")
    assert state["schema_version"] == 2
    assert state["message_count"] == 1
    assert state["agent_type"] == "Agent"
    user, assistant = state["conversation_history"]
    assert user["role"] == "user"
    assert user["additional_properties"]["correlation_id"] == "c1"
    assert assistant["additional_properties"]["agent_response"]["usage_details"]["total_token_count"] > 0


def test_legacy_state_is_migrated_not_wiped(harness: Harness) -> None:
    harness.state = {
        "conversation_history": [
            {
                "type": "chat_message",
                "role": {"type": "role", "value": "user"},
                "contents": [{"type": "text", "text": "old question"}],
                "additional_properties": {"timestamp": "2025-01-15T10:30:00Z", "correlation_id": "old-1"},
            },
            {
                "type": "chat_message",
                "role": {"type": "role", "value": "assistant"},
                "contents": [{"type": "text", "text": "old answer"}],
                "additional_properties": {
                    "timestamp": "2025-01-15T10:30:05Z",
                    "agent_response": {
                        "type": "agent_run_response",
                        "messages": [
                            {
                                "type": "chat_message",
                                "role": {"value": "assistant"},
                                "contents": [{"type": "text", "text": "old answer"}],
                            }
                        ],
                        "usage_details": {
                            "type": "usage_details",
                            "input_token_count": 4,
                            "output_token_count": 2,
                        },
                    },
                },
            },
        ],
        "last_response": "old answer",
        "message_count": 1,
    }
    result = harness.turn("new question", "c1")
    assert result["reply"]["message_count"] == 2
    assert harness.model.seen[-1][:3] == ["user:old question", "assistant:old answer", "user:new question"]


def test_unknown_state_version_is_refused_and_left_alone(harness: Harness) -> None:
    harness.state = {"schema_version": 99, "anything": True}
    with pytest.raises(UnsupportedStateVersionError):
        harness.turn("hello", "c1")
    assert harness.state == {"schema_version": 99, "anything": True}


def test_plain_string_input_is_the_message(harness: Harness) -> None:
    result = harness.op("run_agent", "just text")
    assert result["status"] == 200
    assert "just text" in result["reply"]["response"]


def test_unknown_operation_fails(harness: Harness) -> None:
    with pytest.raises(ValueError, match="Unknown operation"):
        harness.op("explode")


def test_the_store_ledger_does_not_grow_with_completed_turns(harness: Harness) -> None:
    for i in range(5):
        harness.turn(f"m{i}", f"c{i}")
    states = [run(harness.store.request_state("WeatherAgent", "s1", f"c{i}")) for i in range(5)]
    assert states[:4] == [None, None, None, None]  # forgotten once committed and final


def test_transient_failures_do_not_count_toward_poisoning(harness: Harness) -> None:
    for attempt in range(4):
        result = harness.turn("flaky #fail:transient", "c1", nonce=f"n{attempt}")
        assert result["status"] == 503
    harness.model.faults = False
    assert harness.turn("flaky #fail:transient", "c1", nonce="last")["status"] == 200


def test_a_crash_after_the_first_turns_transcript_write_reuses_it(harness: Harness) -> None:
    harness.turn("hello", "c1")  # the host "crashes" before committing the session's first batch:
    harness.state = None
    calls = CountingModel.calls
    redelivered = harness.turn("hello", "c1")
    assert redelivered["status"] == 200
    assert CountingModel.calls == calls
