"""Session lifecycle over real HTTP on the local host: listing, idle expiry across SIGKILL, large turns.

The app (tests/apps/lifecycle_app) has ``Brief`` (sessions expire after a few idle seconds; the
expiry sweep runs every second) and ``Keeper`` (never expires), both with the ``enormous`` tool.
Tests wait on what they observe (a 404, a listing without the session), with deadlines.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost

APP = Path(__file__).resolve().parents[2] / "apps" / "lifecycle_app"
TTL_SECONDS = 6
DEADLINE = 60.0


def _host(store: Path, **env: str) -> LocalHost:
    return LocalHost(APP, store=store, env={"SESSIONS_TTL_SECONDS": str(TTL_SECONDS), **env})


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    server = _host(tmp_path_factory.mktemp("sessions") / "store.sqlite")
    server.start()
    yield server
    assert server.stop() == 0, server.output()


@pytest.fixture
def api(host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=host.url("/api"), timeout=60) as client:
        yield client


def run(api: httpx.Client, agent: str, session: str, message: str) -> httpx.Response:
    return api.post(f"/agents/{agent}/run", json={"message": message, "sessionId": session})


def listing(api: httpx.Client, agent: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every page of the agent's listing, and how many pages it took."""
    sessions: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    pages = 0
    while True:
        r = api.get(f"/agents/{agent}/sessions", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        assert len(body["sessions"]) <= limit
        sessions.extend(body["sessions"])
        if body["next_cursor"] is None:
            return sessions, pages
        params = {"limit": limit, "cursor": body["next_cursor"]}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wait_for(check: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)  # polling what the host shows, not assuming


def test_listing_1000_sessions_page_by_page(api: httpx.Client) -> None:
    names = [f"list-{i:04d}" for i in range(1000)]

    def start(name: str) -> int:
        return run(api, "Keeper", name, f"hello {name}").status_code  # one pool of kept-alive connections

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(start, names)) == {200}
    seen, pages = listing(api, "Keeper", 37)
    assert pages == 28  # 27 full pages of 37 and one of 1
    mine = [s for s in seen if s["sessionId"].startswith("list-")]
    assert sorted(s["sessionId"] for s in mine) == names  # every one, none twice
    keys = [(_time(s["last_active_at"]), s["sessionId"]) for s in seen]
    assert keys == sorted(sorted(keys, key=lambda k: k[1]), key=lambda k: k[0], reverse=True)
    assert all(s["turns"] == 1 and s["expires_at"] is None for s in mine)
    assert run(api, "Keeper", "list-0000", "again").status_code == 200  # activity: to the front
    first = api.get("/agents/Keeper/sessions", params={"limit": 1}).json()
    assert [(s["sessionId"], s["turns"]) for s in first["sessions"]] == [("list-0000", 2)]
    assert api.delete("/agents/Keeper/list-0001").status_code == 200  # a reset leaves the listing
    assert "list-0001" not in {s["sessionId"] for s in listing(api, "Keeper", 1000)[0]}


def test_listing_refuses_bad_input(api: httpx.Client) -> None:
    for params in ({"limit": 0}, {"limit": 1001}, {"cursor": "not a cursor!"}, {"cursor": "Zm9v"}):
        r = api.get("/agents/Keeper/sessions", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    r = api.get("/agents/Nobody/sessions")
    assert r.status_code == 404
    assert r.json()["type"].endswith("/agent-not-found")
    r = run(api, "Keeper", "sessions", "a reserved session id")
    assert r.status_code == 400


def _expires_at(api: httpx.Client, agent: str, session: str) -> str | None:
    for summary in listing(api, agent, 1000)[0]:
        if summary["sessionId"] == session:
            return str(summary["expires_at"])
    return None


def test_an_idle_session_expires_across_a_sigkill(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    server = _host(store)
    server.start()
    try:
        with httpx.Client(base_url=server.url("/api"), timeout=60) as api:
            assert run(api, "Keeper", "stays", "I never expire").status_code == 200
            assert run(api, "Brief", "idle", "first").status_code == 200
            first_expiry = _expires_at(api, "Brief", "idle")
            assert first_expiry is not None
            assert run(api, "Brief", "idle", "second").status_code == 200  # activity extends it
            expiry = _expires_at(api, "Brief", "idle")
            assert expiry is not None
            assert _time(expiry) > _time(first_expiry)
            assert api.get("/agents/Brief/idle").json()["turn_count"] == 2
            assert server.kill() != 0  # SIGKILL: the pending expiry lives only in the store
            deadline = _time(expiry)
            wait_for(lambda: datetime.now(timezone.utc) > deadline, "the session's expiry time")
            server.restart()
        with httpx.Client(base_url=server.url("/api"), timeout=60) as api:
            wait_for(lambda: api.get("/agents/Brief/idle").status_code == 404, "the idle session to expire")
            problem = api.get("/agents/Brief/idle").json()
            assert problem["type"].endswith("/session-not-found")
            assert _expires_at(api, "Brief", "idle") is None
            assert api.get("/agents/Keeper/stays").status_code == 200
            again = run(api, "Brief", "idle", "a new life")  # the id can be used again
            assert again.status_code == 200
            assert api.get("/agents/Brief/idle").json()["turn_count"] == 1
        assert server.stop() == 0, server.output()
    finally:
        if server.running:
            server.kill()
    with sqlite3.connect(store) as conn:  # the expired life's transcript is gone, not only hidden
        rows = conn.execute("SELECT COUNT(*) FROM conv_turns WHERE agent = 'Brief' AND session = 'idle'")
        assert rows.fetchone() == (1,)


def test_a_5_mb_reply_is_stored_and_read_back_whole(api: httpx.Client) -> None:
    size = 2_600_000  # the tool's result, and the reply repeats it: over 5 MB of UTF-8 in the turn
    r = run(api, "Keeper", "huge", f"please produce something enormous {size}")
    assert r.status_code == 200, r.text[:500]
    reply = r.json()["response"]
    assert len(reply) > size
    assert len(reply.encode()) > 3_000_000
    read = api.get("/agents/Keeper/huge")
    assert read.status_code == 200
    body = read.json()
    assert body["conversation_history"][-1]["content"] == reply  # read back whole
    assert body["last_response"] == reply
    assert len(read.content) > 5_000_000
    assert run(api, "Keeper", "huge", "and a small one").status_code == 200
    assert api.get("/agents/Keeper/huge").json()["turn_count"] == 2


def test_a_reply_over_the_cap_is_413_and_nothing_is_stored(tmp_path: Path) -> None:
    server = _host(tmp_path / "store.sqlite", SESSIONS_MAX_REPLY_BYTES=str(1024 * 1024))
    server.start()
    try:
        with httpx.Client(base_url=server.url("/api"), timeout=60) as api:
            assert run(api, "Keeper", "capped", "a small first turn").status_code == 200
            before = api.get("/agents/Keeper/capped")
            r = api.post(
                "/agents/Keeper/run",
                json={"message": "please produce something enormous 600000", "sessionId": "capped"},
                headers={"Idempotency-Key": "too-big-1"},
            )
            assert r.status_code == 413, r.text[:300]
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["type"].endswith("/reply-too-large")
            turn = api.get("/agents/Keeper/capped/turns/too-big-1")
            assert turn.status_code == 413
            after = api.get("/agents/Keeper/capped")
            assert after.json() == before.json()  # nothing half-written
            assert after.headers["etag"] == before.headers["etag"]
            assert run(api, "Keeper", "capped", "still works").json()["turn"] == 2
        assert server.stop() == 0, server.output()
    finally:
        if server.running:
            server.kill()
