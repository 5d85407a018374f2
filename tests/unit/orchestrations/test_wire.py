"""``wire.orchestration_json``: response parsing (V1/V3, compound), failures, timestamps."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.orchestration_json import ActionType


def test_v3_compound_actions_flatten_depth_first() -> None:
    text = json.dumps(
        {
            "isDone": False,
            "schemaVersion": 2,
            "actions": [
                [
                    {"actionType": 0, "functionName": "a", "input": "1"},
                    {
                        "actionType": 11,
                        "compoundActions": [
                            {"actionType": 6, "externalEventName": "E", "reason": "ExternalEvent"},
                            {
                                "actionType": 12,
                                "compoundActions": [
                                    {"actionType": 5, "fireAt": "2026-01-01T00:00:00.000000Z"}
                                ],
                            },
                        ],
                    },
                ]
            ],
            "customStatus": {"x": 1},
        }
    )
    response = wire.parse_response(text)
    assert [a.type for a in response.actions] == [
        ActionType.CALL_ACTIVITY,
        ActionType.WAIT_FOR_EXTERNAL_EVENT,
        ActionType.CREATE_TIMER,
    ]
    assert [a.consumes_sequence for a in response.actions] == [True, False, True]
    assert response.custom_status == {"x": 1}
    assert response.has_custom_status


def test_v1_per_yield_lists_concatenate() -> None:
    text = json.dumps(
        {
            "isDone": True,
            "actions": [
                [{"actionType": 0, "functionName": "a"}],
                [{"actionType": 9, "instanceId": "@c@k", "operation": "o"}],
            ],
            "output": 5,
        }
    )
    response = wire.parse_response(text)
    assert response.schema_version == 0
    assert response.is_done
    assert response.output == 5
    assert [a.type for a in response.actions] == [ActionType.CALL_ACTIVITY, ActionType.SIGNAL_ENTITY]


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        "[]",
        '{"actions": 3}',
        '{"schemaVersion": 2, "actions": [[], []]}',
        '{"actions": [[{"actionType": 99}]]}',
    ],
)
def test_invalid_responses_are_rejected(bad: str) -> None:
    with pytest.raises(wire.ResponseError):
        wire.parse_response(bad)


def test_split_failure_reads_out_of_proc_data() -> None:
    state = json.dumps({"isDone": False, "schemaVersion": 2, "actions": [[]], "error": "boom"})
    head, parsed = wire.split_failure(f"boom{wire.OUT_OF_PROC_MARKER}{state}")
    assert head == "boom"
    assert parsed is not None
    assert parsed.error == "boom"
    assert wire.split_failure("plain failure") == ("plain failure", None)


def test_time_round_trip_and_dotnet_precision() -> None:
    moment = datetime(2026, 11, 24, 7, 38, 6, 440865, tzinfo=timezone.utc)
    assert wire.format_time(moment) == "2026-11-24T07:38:06.440865Z"
    assert wire.parse_time("2026-11-24T07:38:06.4408651Z") == moment
    assert wire.parse_time("2026-11-24T07:38:06Z") == moment.replace(microsecond=0)
    assert wire.parse_time("2026-11-24T08:38:06.440865+01:00") == moment


def test_trigger_request_marks_played_events() -> None:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    events = [
        wire.orchestrator_started(at),
        wire.execution_started(at, "o", None, "i", "e"),
        wire.orchestrator_completed(at),
        wire.orchestrator_started(at),
    ]
    doc = json.loads(wire.trigger_request(events, instance_id="i", input_value=None, played=3))
    assert [e["IsPlayed"] for e in doc["history"]] == [True, True, True, False]
    assert doc["upperSchemaVersionNew"] == 2
    assert doc["isReplaying"] is True
