"""Keys, secrets and logs: the app's auth level is enforced with ``--require-keys``, the Durable
management API needs the system key, secrets from failing models and tools leak nowhere, logs carry
ids and not message contents, and server-made ids are 128-bit random.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost

from .conftest import Battery
from .hosts import AGENT, KEYS_APP, REQUEST_TIMEOUT

SECRET = "sk-test-SECRET"
WEBHOOK = "/runtime/webhooks/durabletask"


def _keys_app(tmp_path: Path, function_key: str) -> Path:
    """The auth app, with a function key configured for ``health`` only (Core Tools' Keys block)."""
    app = tmp_path / "app"
    shutil.copytree(KEYS_APP, app, ignore=shutil.ignore_patterns("__pycache__", ".durableagent"))
    settings = {
        "IsEncrypted": False,
        "Values": {},
        "Keys": {"functions": {"health": {"default": function_key}}},
    }
    (app / "local.settings.json").write_text(json.dumps(settings))
    return app


def _entities(store: str) -> list[str]:
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        return [row[0] for row in conn.execute("SELECT entity_id FROM entities ORDER BY entity_id")]
    finally:
        conn.close()


def _unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_require_keys_enforces_the_apps_function_auth_level(tmp_path: Path) -> None:
    master, host_key, system, health_key = (secrets.token_urlsafe(32) for _ in range(4))
    env = {
        "DURABLEAGENT_MASTER_KEY": master,
        "DURABLEAGENT_HOST_KEY": host_key,
        "DURABLEAGENT_SYSTEM_KEY": system,
    }
    host = LocalHost(
        _keys_app(tmp_path, health_key), store=tmp_path / "store.sqlite", require_keys=True, env=env
    )
    host.start()
    run, session = "/api/agents/Guarded/run", "guarded-1"
    body = {"message": "hello", "sessionId": session}
    try:
        with httpx.Client(base_url=host.base_url, timeout=REQUEST_TIMEOUT) as http:
            _unauthorized(http.post(run, json=body))
            _unauthorized(http.post(run, json=body, headers={"x-functions-key": "wrong"}))
            _unauthorized(http.post(run, json=body, params={"code": "wrong"}))
            _unauthorized(
                http.post(run, json=body, headers={"x-functions-key": health_key})
            )  # another function's
            _unauthorized(
                http.post(run, json=body, headers={"x-functions-key": system})
            )  # system key: webhooks only
            _unauthorized(http.get(f"/api/agents/Guarded/{session}"))
            _unauthorized(http.get(f"/api/agents/Guarded/{session}/turns/x"))
            _unauthorized(http.delete(f"/api/agents/Guarded/{session}"))
            _unauthorized(http.get("/api/health"))
            assert _entities(host.store) == []  # refused requests created nothing
            by_header = http.post(run, json=body, headers={"x-functions-key": host_key})
            assert by_header.status_code == 200, by_header.text
            by_query = http.post(run, json=body, params={"code": host_key})
            assert by_query.status_code == 200
            assert by_query.json()["turn"] == 2
            assert http.post(run, json=body, headers={"x-functions-key": master}).status_code == 200
            assert http.get("/api/health", headers={"x-functions-key": health_key}).status_code == 200
            assert http.get(f"/api/agents/Guarded/{session}", params={"code": host_key}).status_code == 200
            assert http.get("/api/openapi.json").status_code == 200  # documented as anonymous
            system_turn = http.post(
                run,
                json={"message": "be brief", "role": "system", "sessionId": session},
                params={"code": host_key},
            )
            assert system_turn.status_code == 200  # this app opted in to system messages
            history = http.get(f"/api/agents/Guarded/{session}", params={"code": host_key}).json()
            assert history["conversation_history"][-2]["role"] == "system"
            entity = f"{WEBHOOK}/entities/Guarded/{session}"
            for key in (None, "wrong", host_key, health_key):
                _unauthorized(http.get(entity, params={"code": key} if key else {}))
                _unauthorized(
                    http.get(f"{WEBHOOK}/entities", headers={"x-functions-key": key} if key else {})
                )
                _unauthorized(http.post(f"{entity}?op=reset", params={"code": key} if key else {}, json=None))
            assert http.get(entity, params={"code": system}).status_code == 200
            assert http.get(entity, headers={"x-functions-key": master}).status_code == 200
    finally:
        host.stop()
    output = host.output()
    for key in (master, host_key, system, health_key):
        assert key not in output


def test_management_api_needs_the_system_key_even_without_require_keys(battery: Battery) -> None:
    session = "m" + uuid.uuid4().hex[:12]
    assert (
        battery.http.post(f"/agents/{AGENT}/run", json={"message": "hi", "sessionId": session}).status_code
        == 200
    )
    base = battery.host.base_url + WEBHOOK
    for method, path in (
        ("GET", "/entities"),
        ("GET", f"/entities/{AGENT}/{session}"),
        ("POST", f"/entities/{AGENT}/{session}?op=reset"),
        ("GET", "/instances"),
        ("DELETE", "/instances/x"),
    ):
        for headers in ({}, {"x-functions-key": "wrong"}):
            _unauthorized(httpx.request(method, base + path, headers=headers, timeout=30))
    assert battery.http.get(f"/agents/{AGENT}/{session}").json()["message_count"] == 1  # the reset never ran
    ok = httpx.get(f"{base}/entities/{AGENT}/{session}", params={"code": battery.host.system_key}, timeout=30)
    assert ok.status_code == 200


def test_secrets_leak_into_no_response_log_or_file_and_logs_carry_no_message_text(battery: Battery) -> None:
    session = "s" + uuid.uuid4().hex[:12]
    distinctive = f"quokka-{uuid.uuid4().hex}"
    bodies = []
    for message in (
        f"{distinctive} hello",
        f"{distinctive} #fail:error",
        f"{distinctive} please detonate 'it'",
    ):
        r = battery.http.post(f"/agents/{AGENT}/run", json={"message": message, "sessionId": session})
        assert r.status_code in (200, 500), r.text
        bodies.append(r.text)
    failed = bodies[1]
    assert json.loads(failed)["type"].endswith("/agent-failed")
    bodies.append(battery.http.get(f"/agents/{AGENT}/{session}").text)
    bodies.append(battery.http.get(f"/agents/{AGENT}/{session}", params={"limit": 1}).text)
    for body in bodies:
        for leak in (SECRET, "secret.py", "Traceback"):
            assert leak not in body
    assert distinctive in bodies[-2]  # the transcript does keep the conversation itself
    grep = subprocess.run(
        ["grep", "-a", "-r", "-l", SECRET, str(battery.workdir)], capture_output=True, text=True
    )
    assert grep.returncode == 1, f"secret found in {grep.stdout}"  # store, its -wal, probes: nowhere
    log = battery.host.output()
    assert SECRET not in log
    assert "secret.py" not in log
    assert distinctive not in log, "message text in the host's log at the default level"
    assert "agent-failed" in log  # the failure is logged, by id and problem type


def test_server_made_session_and_correlation_ids_are_128_bit_random(battery: Battery) -> None:
    sessions, correlations = set(), set()
    hex32 = re.compile(r"[0-9a-f]{32}")
    for _ in range(200):
        r = battery.http.post(
            f"/agents/{AGENT}/run", json={"message": "new session"}, headers={"Prefer": "wait=10"}
        )
        assert r.status_code == 200
        session, correlation = r.json()["sessionId"], r.json()["correlationId"]
        assert r.headers["x-ms-session-id"] == session
        assert hex32.fullmatch(session)
        assert hex32.fullmatch(correlation)
        sessions.add(session)
        correlations.add(correlation)
    assert len(sessions) == len(correlations) == 200
    # 128 random bits: every bit position takes both values across 200 ids
    bits = [int(s, 16) for s in sessions]
    assert all(any(b >> i & 1 for b in bits) and not all(b >> i & 1 for b in bits) for i in range(128))


@pytest.mark.parametrize("path", ["/api/agents/Battery/run", "/api/health"])
def test_without_require_keys_anonymous_routes_stay_open(battery: Battery, path: str) -> None:
    """The battery app is ANONYMOUS: the flag, not the host, decides whether keys are enforced."""
    r = httpx.request(
        "POST" if path.endswith("run") else "GET",
        battery.host.url(path),
        json={"message": "x"} if "run" in path else None,
    )
    assert r.status_code == 200
