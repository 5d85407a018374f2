"""Orchestrations over real HTTP: the app's client functions use the REAL DurableOrchestrationClient."""

from __future__ import annotations

import uuid

import httpx

from durableagent.testing.polling import wait_for

from .conftest import finished, start, status


def test_activities_in_sequence(http: httpx.Client) -> None:
    instance_id = start(http, "hello_sequence")
    doc = finished(http, instance_id)
    assert doc["runtimeStatus"] == "Completed"
    assert doc["output"] == ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]


def test_entity_call_signal_and_activity(http: httpx.Client) -> None:
    key = uuid.uuid4().hex[:8]
    instance_id = start(http, "add_and_double", {"key": key, "n": 7})
    doc = finished(http, instance_id)
    assert doc["output"] == {"total": 7, "doubled": 14}
    # The client's double encoding: the status input is the JSON *text* of the start input.
    assert doc["input"] == '{"key": "' + key + '", "n": 7}'
    # The signal sent after the activity reaches the entity too.
    state = wait_for(lambda: (http.get(f"/api/counters/{key}").json().get("state") or {}).get("value") == 8)
    assert state


def test_fan_out_fan_in(http: httpx.Client) -> None:
    doc = finished(http, start(http, "fan_out", 5))
    assert doc["output"] == 20


def test_durable_timer_and_custom_status(http: httpx.Client) -> None:
    instance_id = start(http, "sleeper", 1)
    running = wait_for(lambda: (d := status(http, instance_id))["customStatus"] == "sleeping" and d)
    assert running["runtimeStatus"] == "Running"
    doc = finished(http, instance_id)
    assert doc["output"] == {"slept": 1.0}
    assert doc["customStatus"] == "awake"


def test_external_event_is_a_str_and_raise_after_the_end_is_gone(http: httpx.Client) -> None:
    instance_id = start(http, "approval", 60)
    wait_for(lambda: status(http, instance_id)["customStatus"] == {"stage": "waiting"})
    resp = http.post(f"/api/orchestrations/{instance_id}/raise/Approval", json={"ok": True, "by": "alice"})
    assert resp.status_code == 202
    doc = finished(http, instance_id)
    assert doc["output"] == {"approved": True, "value": '{"ok": true, "by": "alice"}', "type": "str"}
    late = http.post(f"/api/orchestrations/{instance_id}/raise/Approval", json=1)
    assert late.status_code == 409
    assert "is gone" in late.json()["error"]  # the SDK's message for 410


def test_event_timeout_branch(http: httpx.Client) -> None:
    doc = finished(http, start(http, "approval", 0.5))
    assert doc["output"] == {"approved": False}


def test_terminate_then_raise_is_gone(http: httpx.Client) -> None:
    instance_id = start(http, "approval", 60)
    wait_for(lambda: status(http, instance_id)["runtimeStatus"] == "Running")
    resp = http.post(f"/api/orchestrations/{instance_id}/terminate", params={"reason": "stop, please"})
    assert resp.status_code == 202
    doc = finished(http, instance_id)
    assert doc["runtimeStatus"] == "Terminated"
    assert doc["output"] == "stop, please"
    assert http.post(f"/api/orchestrations/{instance_id}/raise/Approval", json=1).status_code == 409
    again = http.post(f"/api/orchestrations/{instance_id}/terminate")
    assert again.status_code == 202  # the SDK accepts 410 from terminate


def test_purge_then_status_is_404(http: httpx.Client) -> None:
    instance_id = start(http, "fan_out", 2)
    finished(http, instance_id)
    assert http.delete(f"/api/orchestrations/{instance_id}").json() == {"instancesDeleted": 1}
    assert http.get(f"/api/orchestrations/{instance_id}").status_code == 404
    assert http.delete(f"/api/orchestrations/{instance_id}").json() == {"instancesDeleted": 0}


def test_retry_until_success_and_until_exhausted(http: httpx.Client) -> None:
    ok = start(http, "retrying", {"key": uuid.uuid4().hex, "failures": 2, "attempts": 3})
    assert finished(http, ok)["output"] == {"result": "ok after 3 attempts"}
    bad = start(http, "retrying", {"key": uuid.uuid4().hex, "failures": 5, "attempts": 2})
    failure = finished(http, bad)["output"]["failed"]
    assert failure.startswith("Activity function 'flaky' failed: RuntimeError: flaky attempt 2 failed")


def test_sub_orchestrations(http: httpx.Client) -> None:
    instance_id = start(http, "parent_orch")
    doc = finished(http, instance_id)
    assert doc["output"]["child"] == 42
    assert "Orchestrator function 'child_orch' failed: negative input" in doc["output"]["failure"]
    child = status(http, f"{instance_id}-bad-child")
    assert child["runtimeStatus"] == "Failed"


def test_continue_as_new_keeps_the_instance_and_takes_events(http: httpx.Client) -> None:
    instance_id = start(http, "counter_loop", {"n": 0, "until": 3})
    wait_for(lambda: status(http, instance_id)["customStatus"] == {"generation": 3})
    assert http.post(f"/api/orchestrations/{instance_id}/raise/Finish", json="done").status_code == 202
    doc = finished(http, instance_id)
    assert doc["output"] == {"n": 3, "finish": '"done"'}
    assert doc["input"] == '{"n": 3, "until": 3}'


def test_failed_orchestration_and_unknown_orchestrator(http: httpx.Client) -> None:
    doc = finished(http, start(http, "failing"))
    assert doc["runtimeStatus"] == "Failed"
    assert doc["output"] == "Orchestrator function 'failing' failed: orchestrator failed on purpose"
    resp = http.post("/api/orchestrators/nope")
    assert resp.status_code == 400
    assert (
        "The function 'nope' doesn't exist, is disabled, or is not an orchestrator function"
        in resp.json()["error"]
    )


def test_status_with_history_and_list_filters(http: httpx.Client) -> None:
    prefix = f"list-{uuid.uuid4().hex[:6]}-"
    first = start(http, "fan_out", 1, instance_id=prefix + "a")
    finished(http, first)
    waiting = start(http, "approval", 60, instance_id=prefix + "b")
    wait_for(lambda: status(http, waiting)["runtimeStatus"] == "Running")
    history = status(http, first, history="1")["history"]
    kinds = [e["EventType"] for e in history]
    assert kinds[0] == "ExecutionStarted"
    assert kinds[-1] == "ExecutionCompleted"
    assert "OrchestratorStarted" not in kinds
    assert "TaskScheduled" not in kinds
    completed = next(e for e in history if e["EventType"] == "TaskCompleted")
    assert completed["FunctionName"] == "double"
    assert completed["Result"] == 0
    found = http.get("/api/orchestrations", params={"prefix": prefix}).json()
    assert sorted(d["instanceId"] for d in found) == [prefix + "a", prefix + "b"]
    running = http.get("/api/orchestrations", params={"prefix": prefix, "status": "Running,Pending"}).json()
    assert [d["instanceId"] for d in running] == [prefix + "b"]
    assert http.post(f"/api/orchestrations/{waiting}/terminate").status_code == 202
