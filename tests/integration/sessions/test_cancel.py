"""Cancel (issue 14.5) over real HTTP: a queued turn never runs, a running one stops at a safe point.

``Worker`` logs every model call to ``models.log`` (``model <marker>`` before, ``done <marker>``
after) and its ``slow_step`` tool waits for the test's release file; ``#sleep:N`` makes the offline
model slow. Every wait is on something observed (files, the store, HTTP answers), never a sleep.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import httpx

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

ASYNC = {"Prefer": "respond-async"}


def _lines(probe_dir: Path, name: str) -> list[str]:
    path = probe_dir / name
    return path.read_text().splitlines() if path.exists() else []


def _submit(api: httpx.Client, sid: str, message: str) -> tuple[str, str]:
    key = uuid.uuid4().hex
    r = api.post(
        "/agents/Worker/run",
        json={"message": message, "sessionId": sid},
        headers={**ASYNC, "Idempotency-Key": key},
    )
    assert r.status_code == 202, r.text
    return key, r.headers["Location"]


def _problem(r: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = r.json()
    assert str(body["type"]).endswith("/" + slug), body
    return body


def _settled(location: str) -> httpx.Response:
    response: httpx.Response = wait_for(
        lambda: (r := httpx.get(location, timeout=30)).status_code != 202 and r, 60, interval=0.1
    )
    return response


def _history_errors(api: httpx.Client, sid: str) -> list[str]:
    history = api.get(f"/agents/Worker/{sid}").json()["conversation_history"]
    return [str(e["error"]["type"]).rsplit("/", 1)[-1] for e in history if e.get("error")]


def test_a_running_turn_is_stopped_during_a_slow_model_call(api: httpx.Client, probe_dir: Path) -> None:
    sid = uuid.uuid4().hex
    key, location = _submit(api, sid, "tell me a tale #sleep:120 m-model1")
    wait_for(lambda: "model m-model1" in _lines(probe_dir, "models.log"), 30)
    cancel = api.post(f"/agents/Worker/{sid}/turns/{key}/cancel")
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["status"] == "cancelled"
    assert "done m-model1" not in _lines(probe_dir, "models.log")  # the model call was abandoned
    _problem(httpx.get(location, timeout=30), 409, "turn-cancelled")
    again = api.post(f"/agents/Worker/{sid}/turns/{key}/cancel")  # idempotent
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "cancelled"
    assert _history_errors(api, sid) == ["turn-cancelled"]  # recorded once
    after = api.post("/agents/Worker/run", json={"message": "and now m-model2", "sessionId": sid})
    assert after.status_code == 200, after.text  # the session goes on


def _mark_written(store: Path, key: str) -> bool:
    conn = sqlite3.connect(store)
    try:
        return conn.execute("SELECT 1 FROM conv_marks WHERE request_id = ?", (key,)).fetchone() is not None
    finally:
        conn.close()


def test_a_running_tool_finishes_and_no_model_call_follows(
    api: httpx.Client, probe_dir: Path, sessions_host: LocalHost
) -> None:
    sid, item = uuid.uuid4().hex, f"t{uuid.uuid4().hex[:8]}"
    key, location = _submit(api, sid, f"#tool:slow_step '{item}' m-{item}")
    wait_for(lambda: (probe_dir / f"{item}.started").exists(), 30)
    answers: list[httpx.Response] = []
    canceller = threading.Thread(
        target=lambda: answers.append(api.post(f"/agents/Worker/{sid}/turns/{key}/cancel")), daemon=True
    )
    canceller.start()
    assert sessions_host.store is not None
    wait_for(lambda: _mark_written(Path(sessions_host.store), key), 30)
    assert item not in _lines(probe_dir, "executions.log")  # the tool is still running
    (probe_dir / f"{item}.release").touch()
    canceller.join(60)
    assert answers, "the cancel did not answer"
    assert answers[0].status_code == 200, answers[0].text
    assert item in _lines(probe_dir, "executions.log")  # the tool was not interrupted half-way
    assert _lines(probe_dir, "models.log").count(f"model m-{item}") == 1  # no model call after it
    _problem(httpx.get(location, timeout=30), 409, "turn-cancelled")
    assert _history_errors(api, sid) == ["turn-cancelled"]


def test_a_queued_turn_never_runs(api: httpx.Client, probe_dir: Path) -> None:
    sid, item = uuid.uuid4().hex, f"q{uuid.uuid4().hex[:8]}"
    _, first = _submit(api, sid, f"#tool:slow_step '{item}' m-{item}")
    wait_for(lambda: (probe_dir / f"{item}.started").exists(), 30)
    key, queued = _submit(api, sid, f"second message m-{item}x")
    cancel = api.post(f"/agents/Worker/{sid}/turns/{key}/cancel")
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["status"] == "cancelled"
    (probe_dir / f"{item}.release").touch()
    assert _settled(first).status_code == 200
    _problem(_settled(queued), 409, "turn-cancelled")
    assert f"model m-{item}x" not in _lines(probe_dir, "models.log")  # it never reached the model
    assert _history_errors(api, sid) == ["turn-cancelled"]


def test_a_finished_turn_is_not_changed(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    key = uuid.uuid4().hex
    r = api.post(
        "/agents/Worker/run",
        json={"message": "hello m-done", "sessionId": sid},
        headers={"Idempotency-Key": key},
    )
    assert r.status_code == 200, r.text
    body = _problem(api.post(f"/agents/Worker/{sid}/turns/{key}/cancel"), 409, "turn-finished")
    assert body["outcome"] == 200
    assert api.get(f"/agents/Worker/{sid}/turns/{key}").status_code == 200
    _problem(api.post(f"/agents/Worker/{sid}/turns/unknown-turn/cancel"), 404, "turn-not-found")
