"""``status``: the StatusResponsePayload and the trimmed history the extension shows."""

from __future__ import annotations

from datetime import datetime, timezone

from durableagent.local.orchestrations.model import RuntimeStatus
from durableagent.local.orchestrations.status import history_events, parse_token, status_payload
from durableagent.local.orchestrations.tables import InstanceRow
from durableagent.local.wire import orchestration_json as wire

AT = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)


def test_parse_token_falls_back_to_the_raw_string() -> None:
    assert parse_token('{"a": 1}') == {"a": 1}
    assert parse_token("stop please") == "stop please"
    assert parse_token("  ") == ""
    assert parse_token(None) is None


def test_status_payload_shape() -> None:
    stamp = wire.format_time(AT)
    row = InstanceRow(
        "i", "orch", "e", RuntimeStatus.FAILED, '"{\\"a\\": 1}"', "boom", '{"s": 1}', stamp, stamp, None, "{}"
    )
    doc = status_payload(row)
    assert doc == {
        "name": "orch",
        "instanceId": "i",
        "runtimeStatus": "Failed",
        "input": '{"a": 1}',
        "customStatus": {"s": 1},
        "output": "boom",
        "createdTime": "2026-01-02T03:04:05Z",
        "lastUpdatedTime": "2026-01-02T03:04:05Z",
    }


def test_history_is_trimmed_like_the_extension() -> None:
    events = [
        wire.orchestrator_started(AT),
        wire.execution_started(AT, "orch", '"1"', "i", "e"),
        wire.task_scheduled(AT, 0, "double", "1"),
        wire.orchestrator_completed(AT),
        wire.orchestrator_started(AT),
        wire.task_completed(AT, 0, "2"),
        wire.timer_created(AT, 1, AT),
        wire.orchestrator_completed(AT),
        wire.orchestrator_started(AT),
        wire.timer_fired(AT, 1, AT),
        wire.execution_completed(AT, "Completed", '{"x": 2}'),
        wire.orchestrator_completed(AT),
    ]
    shown = history_events(events, show_input=True, show_output=True)
    assert [e["EventType"] for e in shown] == [
        "ExecutionStarted",
        "TaskCompleted",
        "TimerCreated",
        "TimerFired",
        "ExecutionCompleted",
    ]
    assert shown[0]["FunctionName"] == "orch"
    assert "OrchestrationInstance" not in shown[0]
    assert shown[1]["FunctionName"] == "double"
    assert shown[1]["Result"] == 2
    assert shown[1]["Input"] == "1"
    assert "TimerId" not in shown[3]
    assert shown[4]["Result"] == {"x": 2}
    hidden = history_events(events, show_input=False, show_output=False)
    assert "Result" not in hidden[1]
    assert "Input" not in hidden[0]
    assert "Result" not in hidden[-1]
