"""Entities through the real DurableOrchestrationClient (the app's client functions) and the webhooks."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

WEBHOOK = "/runtime/webhooks/durabletask"


def _read(http: httpx.Client, key: str) -> Any:
    resp = http.get(f"/api/counters/{key}")
    return resp.json()["state"] if resp.status_code == 200 else None


def _log_len(http: httpx.Client, key: str, n: int) -> Any:
    state = _read(http, key)
    return state if state is not None and len(state["log"]) >= n else None


def test_signal_then_read_through_the_sdk_client(http: httpx.Client) -> None:
    assert http.get("/api/counters/sdk1").status_code == 404
    assert http.post("/api/counters/sdk1/add", json={"n": 3}).status_code == 202
    assert http.post("/api/counters/sdk1/add", json=4).status_code == 202
    state = wait_for(lambda: _log_len(http, "sdk1", 2))
    assert state["value"] == 7
    assert [entry[:2] for entry in state["log"]] == [["add", 3], ["add", 4]]


def test_falsy_input_quirk_is_reproduced(http: httpx.Client) -> None:
    http.post("/api/counters/falsy/add", json=5)
    wait_for(lambda: _log_len(http, "falsy", 1))
    # signal_entity(eid, "add", 0) sends no body: the entity sees a null input and get_input() raises.
    assert http.post("/api/counters/falsy/add", json=0).status_code == 202
    http.post("/api/counters/falsy/add", json=2)
    state = wait_for(lambda: _log_len(http, "falsy", 2))
    assert state["value"] == 7
    assert [entry[1] for entry in state["log"]] == [5, 2]


def test_no_rollback_and_delete(http: httpx.Client) -> None:
    http.post("/api/counters/gone/add", json=1)
    http.post("/api/counters/gone/boom")
    wait_for(lambda: (_read(http, "gone") or {}).get("value") == -999)
    http.post("/api/counters/gone/delete")
    wait_for(lambda: http.get("/api/counters/gone").status_code == 404)


def test_a_burst_is_applied_in_order_in_bounded_batches(http: httpx.Client) -> None:
    # The slow first operation lets the following signals queue up, so they are batched.
    assert http.post("/api/counters/burst/slow", json=0.5).status_code == 202
    assert http.post("/api/counters/burst/burst/35?prefix=m").status_code == 202
    state = wait_for(lambda: _log_len(http, "burst", 36))
    appended = [entry for entry in state["log"] if entry[0] == "append"]
    assert [entry[1] for entry in appended] == [f"m{i}" for i in range(35)]
    sizes: dict[str, int] = {}
    for entry in appended:
        sizes[entry[2]] = sizes.get(entry[2], 0) + 1
    assert max(sizes.values()) <= 10  # host.json maxEntityOperationBatchSize
    assert len(sizes) < 35  # batching happened


def test_concurrent_senders_keep_their_own_order(plain_host: LocalHost) -> None:
    def sender(prefix: str) -> None:
        with httpx.Client(base_url=plain_host.base_url, timeout=30) as client:
            assert client.post(f"/api/counters/conc/burst/15?prefix={prefix}").status_code == 202

    threads = [threading.Thread(target=sender, args=(p,)) for p in ("a", "b", "c", "d")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with httpx.Client(base_url=plain_host.base_url, timeout=30) as http:
        state = wait_for(lambda: _log_len(http, "conc", 60))
    markers = [entry[1] for entry in state["log"]]
    assert len(markers) == 60
    assert len(set(markers)) == 60
    for prefix in "abcd":
        assert [m for m in markers if m.startswith(prefix)] == [f"{prefix}{i}" for i in range(15)]


def test_webhooks_require_the_system_key(http: httpx.Client, plain_host: LocalHost) -> None:
    http.post("/api/counters/hook/add", json=2)
    wait_for(lambda: _read(http, "hook"))
    url = f"{WEBHOOK}/entities/Counter/hook"
    assert http.get(url).status_code == 401
    assert http.get(url, params={"code": "wrong"}).status_code == 401
    assert plain_host.system_key
    resp = http.get(url, params={"code": plain_host.system_key})
    assert resp.status_code == 200
    assert resp.json()["value"] == 2
    resp = http.get(url, headers={"x-functions-key": plain_host.system_key})
    assert resp.status_code == 200


def test_webhook_signal_list_and_errors(http: httpx.Client, plain_host: LocalHost) -> None:
    key = {"code": plain_host.system_key or ""}
    for k in ("l1", "l2", "l3"):
        body = json.dumps(json.dumps(10))  # what DurableOrchestrationClient sends for signal_entity(.., 10)
        resp = http.post(
            f"{WEBHOOK}/entities/Counter/{k}",
            params={**key, "op": "add"},
            content=body,
            headers={"content-type": "application/json"},
        )
        assert resp.status_code == 202
    wait_for(lambda: all(_read(http, k) for k in ("l1", "l2", "l3")))
    page1 = http.get(f"{WEBHOOK}/entities/counter", params={**key, "top": "2", "fetchState": "true"})
    assert page1.status_code == 200
    token = page1.headers["x-ms-continuation-token"]
    page2 = http.get(
        f"{WEBHOOK}/entities/counter",
        params={**key, "top": "100"},
        headers={"x-ms-continuation-token": token},
    )
    listed = page1.json() + page2.json()
    keys = [item["entityId"]["key"] for item in listed]
    assert {"l1", "l2", "l3"} <= set(keys)
    assert keys == sorted(keys)
    assert all(item["entityId"]["name"] == "counter" for item in listed)
    first = page1.json()[0]
    assert first["state"] is not None
    assert "lastOperationTime" in first
    assert all(item["state"] is None for item in page2.json())
    assert http.post(f"{WEBHOOK}/entities/NoSuchEntity/k", params={**key, "op": "add"}).status_code == 400
    assert http.post(f"{WEBHOOK}/entities/Counter/a%5Cb", params={**key, "op": "add"}).status_code == 400
    assert http.post(f"{WEBHOOK}/entities/Counter/a%2Fb", params={**key, "op": "add"}).status_code == 400
    bad_json = http.post(
        f"{WEBHOOK}/entities/Counter/k",
        params={**key, "op": "add"},
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert http.get(f"{WEBHOOK}/entities/Counter/never", params=key).status_code == 404
    assert http.get(f"{WEBHOOK}/nothing/here", params=key).status_code == 404


def test_unknown_entity_seen_by_the_sdk_as_400(http: httpx.Client) -> None:
    resp = http.post("/api/counters-raw/NoSuchEntity/k")
    assert resp.status_code == 502
    assert "400" in resp.json()["error"]
    assert http.post("/api/counters-raw/Counter/ok").status_code == 202


def test_management_urls_carry_the_public_origin_and_system_key(
    http: httpx.Client, plain_host: LocalHost
) -> None:
    links = http.get("/api/management/inst-1").json()
    assert links["id"] == "inst-1"
    status = links["statusQueryGetUri"]
    assert status.startswith(
        f"{plain_host.base_url}{WEBHOOK}/instances/inst-1?taskHub=PlainDfHub&connection=Storage"
    )
    assert status.endswith(f"&code={plain_host.system_key}")
