"""The instance endpoints on the public ``/runtime/webhooks/durabletask`` surface: codes, headers, bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

from .conftest import finished, status

WEBHOOK = "/runtime/webhooks/durabletask"


@pytest.fixture
def hook(orch_host: LocalHost) -> Iterator[httpx.Client]:
    params = {"code": orch_host.system_key or ""}
    with httpx.Client(base_url=orch_host.base_url + WEBHOOK, params=params, timeout=30) as client:
        yield client


def _start(hook: httpx.Client, name: str, instance_id: str, value: Any = None) -> httpx.Response:
    """Start like ``DurableOrchestrationClient.start_new``: the input is sent double-encoded."""
    body = json.dumps(value) if value is not None else None
    return hook.post(f"/orchestrators/{name}/{instance_id}", json=body)


def test_start_status_codes_and_payload(hook: httpx.Client, http: httpx.Client) -> None:
    instance_id = f"hook-{uuid.uuid4().hex[:8]}"
    resp = _start(hook, "approval", instance_id, 60)
    assert resp.status_code == 202
    body = resp.json()
    assert set(body) == {
        "id",
        "statusQueryGetUri",
        "sendEventPostUri",
        "terminatePostUri",
        "purgeHistoryDeleteUri",
        "restartPostUri",
        "suspendPostUri",
        "resumePostUri",
    }
    assert body["id"] == instance_id
    assert resp.headers["location"] == body["statusQueryGetUri"]
    assert resp.headers["retry-after"] == "10"
    # a running id cannot be started again (the extension's dedupe states)
    again = _start(hook, "approval", instance_id, 60)
    assert again.status_code == 500
    assert again.json()["ExceptionMessage"].startswith("An Orchestration instance with the status")
    running = wait_for(
        lambda: (r := hook.get(f"/instances/{instance_id}")).json()["runtimeStatus"] == "Running" and r
    )
    assert running.status_code == 202
    assert running.headers["retry-after"] == "5"
    assert running.headers["location"]
    doc = running.json()
    assert set(doc) == {
        "name",
        "instanceId",
        "runtimeStatus",
        "input",
        "customStatus",
        "output",
        "createdTime",
        "lastUpdatedTime",
    }
    assert doc["input"] == "60"
    assert doc["createdTime"].endswith("Z")
    assert len(doc["createdTime"]) == 20
    assert hook.get(f"/instances/{instance_id}", params={"showInput": "false"}).json()["input"] is None
    assert hook.post(f"/instances/{instance_id}/terminate", params={"reason": "done"}).status_code == 202
    ended = wait_for(lambda: (r := hook.get(f"/instances/{instance_id}")).status_code == 200 and r)
    assert ended.json()["runtimeStatus"] == "Terminated"
    # a terminated id may be started again: it is replaced
    assert _start(hook, "fan_out", instance_id, 3).status_code == 202
    assert finished(http, instance_id)["output"] == 6


def test_unknown_orchestrator_and_bad_ids(hook: httpx.Client) -> None:
    resp = hook.post("/orchestrators/does_not_exist")
    assert resp.status_code == 400
    assert resp.json()["ExceptionMessage"].startswith("The function 'does_not_exist' doesn't exist")
    assert hook.post("/orchestrators/fan_out/@bad").status_code == 400
    assert (
        hook.post(
            "/orchestrators/fan_out", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_unknown_instance_answers_404_with_an_empty_body(hook: httpx.Client) -> None:
    for method, path in (
        ("GET", "/instances/nobody"),
        ("DELETE", "/instances/nobody"),
        ("POST", "/instances/nobody/terminate"),
        ("POST", "/instances/nobody/suspend"),
        ("POST", "/instances/nobody/raiseEvent/x"),
    ):
        resp = hook.request(method, path, json=1 if "raiseEvent" in path else None)
        assert resp.status_code == 404, (method, path)
        assert resp.content == b""


def test_raise_event_rules(hook: httpx.Client, http: httpx.Client) -> None:
    instance_id = f"raise-{uuid.uuid4().hex[:8]}"
    _start(hook, "approval", instance_id, 60)
    wait_for(lambda: status(http, instance_id)["runtimeStatus"] == "Running")
    plain = hook.post(
        f"/instances/{instance_id}/raiseEvent/Approval",
        content=b"yes",
        headers={"content-type": "text/plain"},
    )
    assert plain.status_code == 400
    assert plain.json()["Message"] == "Only application/json request content is supported"
    # a raw (not double-encoded) JSON body reaches the orchestrator as that value
    assert hook.post(f"/instances/{instance_id}/raiseEvent/Approval", json={"raw": True}).status_code == 202
    doc = finished(http, instance_id)
    assert doc["output"] == {"approved": True, "value": {"raw": True}, "type": "dict"}
    assert hook.post(f"/instances/{instance_id}/raiseEvent/Approval", json=1).status_code == 410
    assert hook.post(f"/instances/{instance_id}/terminate").status_code == 410


def test_suspend_resume(hook: httpx.Client, http: httpx.Client) -> None:
    instance_id = f"susp-{uuid.uuid4().hex[:8]}"
    _start(hook, "approval", instance_id, 60)
    wait_for(lambda: status(http, instance_id)["runtimeStatus"] == "Running")
    assert http.post(f"/api/orchestrations/{instance_id}/suspend").status_code == 202
    wait_for(lambda: status(http, instance_id)["runtimeStatus"] == "Suspended")
    assert hook.post(f"/instances/{instance_id}/suspend").status_code == 500  # already suspended
    http.post(f"/api/orchestrations/{instance_id}/raise/Approval", json="late")
    assert status(http, instance_id)["runtimeStatus"] == "Suspended"  # the event waits for resume
    assert http.post(f"/api/orchestrations/{instance_id}/resume").status_code == 202
    assert finished(http, instance_id)["output"]["value"] == '"late"'


def test_restart_and_rewind(hook: httpx.Client, http: httpx.Client) -> None:
    instance_id = f"rst-{uuid.uuid4().hex[:8]}"
    _start(hook, "fan_out", instance_id, 4)
    finished(http, instance_id)
    same = hook.post(f"/instances/{instance_id}/restart", params={"restartWithNewInstanceId": "false"})
    assert same.status_code == 202
    assert same.json()["id"] == instance_id
    assert finished(http, instance_id)["output"] == 12
    fresh = hook.post(f"/instances/{instance_id}/restart")
    assert fresh.status_code == 202
    assert fresh.json()["id"] != instance_id
    assert finished(http, fresh.json()["id"])["output"] == 12
    assert hook.post("/instances/nobody/restart").status_code == 400
    assert hook.post(f"/instances/{instance_id}/rewind").status_code == 410
    failed = f"rw-{uuid.uuid4().hex[:8]}"
    _start(hook, "failing", failed)
    assert finished(http, failed)["runtimeStatus"] == "Failed"
    rewind = hook.post(f"/instances/{failed}/rewind", params={"reason": "again"})
    assert rewind.status_code == 202  # accepted; the orchestrator fails the same way on replay
    assert finished(http, failed)["runtimeStatus"] == "Failed"


def test_list_paging_and_purge_by_filter(hook: httpx.Client, http: httpx.Client) -> None:
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    ids = [prefix + str(i) for i in range(3)]
    for instance_id in ids:
        _start(hook, "fan_out", instance_id, 1)
    for instance_id in ids:
        finished(http, instance_id)
    first = hook.get("/instances/", params={"instanceIdPrefix": prefix, "top": "2"})
    assert first.status_code == 200
    assert len(first.json()) == 2
    token = first.headers["x-ms-continuation-token"]
    rest = hook.get(
        "/instances/",
        params={"instanceIdPrefix": prefix, "top": "2"},
        headers={"x-ms-continuation-token": token},
    )
    assert [d["instanceId"] for d in first.json() + rest.json()] == ids
    assert "x-ms-continuation-token" not in rest.headers
    assert hook.delete("/instances/").status_code == 400  # createdTimeFrom is required
    created = first.json()[0]["createdTime"]
    purged = hook.delete("/instances/", params={"createdTimeFrom": created, "runtimeStatus": "Failed"})
    assert purged.status_code in (200, 404)
    everything = hook.delete(
        "/instances/",
        params={"createdTimeFrom": "2000-01-01T00:00:00Z", "runtimeStatus": "Completed,Terminated"},
    )
    assert everything.status_code == 200
    assert everything.json()["instancesDeleted"] >= 3
    assert all(hook.get(f"/instances/{i}").status_code == 404 for i in ids)
