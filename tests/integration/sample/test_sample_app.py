"""The weather sample over real HTTP on 127.0.0.1: the app's routes call the real Durable client,
which talks to the local host's Durable HTTP API; entities run the agents on the offline model."""

from __future__ import annotations

import uuid

import httpx

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

from .conftest import FAULTS, SAMPLE


def _sid() -> str:
    return uuid.uuid4().hex


def _polled(location: str, timeout: float) -> httpx.Response:
    """Poll a 202's Location until it answers something else."""
    response: httpx.Response = wait_for(
        lambda: (r := httpx.get(location, timeout=30)).status_code != 202 and r, timeout, interval=0.2
    )
    return response


def _running(location: str) -> bool:
    """The turn behind ``location`` is running (its ledger row says so), not merely accepted."""
    response = httpx.get(location, timeout=30)
    assert response.status_code == 202, response.text  # it must not have finished yet
    return bool(response.json()["status"] == "running")


def test_multi_turn_conversation_keeps_history(api: httpx.Client) -> None:
    sid = _sid()
    replies = []
    for text in ("hello", "how are you", "bye"):
        r = api.post("/agents/WeatherAgent/run", json={"message": text, "sessionId": sid})
        assert r.status_code == 200, r.text
        replies.append(r.json())
    assert [r["message_count"] for r in replies] == [1, 2, 3]
    assert replies[2]["response"] == "You said: 'bye'. This is offline reply #3 in this conversation."
    state = api.get(f"/agents/WeatherAgent/{sid}")
    assert state.status_code == 200
    body = state.json()
    assert body["message_count"] == 3
    assert [e["role"] for e in body["conversation_history"]] == ["user", "assistant"] * 3
    assert body["last_response"] == replies[2]["response"]
    assert body["agent_type"] == "Agent"
    assert state.headers["etag"] == r.headers["etag"]


def test_routes_match_in_any_case_like_the_functions_host(api: httpx.Client) -> None:
    sid = _sid()
    r = api.post("/AGENTS/weatheragent/RUN", json={"message": "hi", "sessionId": sid})
    assert r.status_code == 200, r.text
    assert r.json()["message_count"] == 1
    assert api.get(f"/Agents/WeatherAgent/{sid}").json()["message_count"] == 1


def test_two_agents_keep_separate_sessions_and_call_their_tools(api: httpx.Client) -> None:
    sid = _sid()
    weather = api.post(
        "/agents/WeatherAgent/run", json={"message": "What is the weather like in Seattle?", "sessionId": sid}
    )
    math = api.post("/agents/MathAgent/run", json={"message": "please add 2 and 40", "sessionId": sid})
    assert (
        weather.json()["response"]
        == "Here is what I found: location=Seattle, temperature=72, conditions=Sunny."
    )
    assert math.json()["response"] == "Here is what I found: 42.0."
    history = api.get(f"/agents/WeatherAgent/{sid}").json()["conversation_history"]
    calls = history[1]["agent_response"]["tool_calls"]
    assert calls[0]["name"] == "get_weather"
    assert calls[0]["arguments"] == {"location": "Seattle"}
    assert history[1]["agent_response"]["usage"]["total_tokens"] > 0
    assert api.get(f"/agents/MathAgent/{sid}").json()["message_count"] == 1
    health = api.get("/health").json()
    assert health == {
        "status": "healthy",
        "agent_count": 2,
        "agents": [{"name": "WeatherAgent", "type": "Agent"}, {"name": "MathAgent", "type": "Agent"}],
    }


def test_structured_output_over_http(api: httpx.Client) -> None:
    schema = {
        "type": "object",
        "properties": {"location": {"type": "string"}, "temperature": {"type": "number"}},
        "required": ["location", "temperature"],
    }
    r = api.post(
        "/agents/WeatherAgent/run",
        json={
            "message": "Give me the forecast for Paris.",
            "response_schema": schema,
            "enable_tool_calls": False,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["response"] == {"location": "Paris", "temperature": 0.0}
    bad = api.post("/agents/WeatherAgent/run", json={"message": "#bad-json", "response_format": schema})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_slow_turn_answers_202_and_location_gives_the_result(api: httpx.Client) -> None:
    sid = _sid()
    r = api.post(
        "/agents/WeatherAgent/run",
        json={"message": "slow one #sleep:1.5", "sessionId": sid},
        headers={"Prefer": "wait=0.2"},
    )
    assert r.status_code == 202, r.text
    assert r.headers["retry-after"] == "1"
    assert r.headers["preference-applied"] == "wait=0.2"
    location = r.headers["location"]
    assert location == r.json()["location"]
    first = httpx.get(location, timeout=30)
    assert first.status_code in (200, 202)
    done = _polled(location, timeout=20)
    assert done.status_code == 200
    assert done.json()["response"].startswith("You said: 'slow one #sleep:1.5'")


def test_reset_clears_the_session(api: httpx.Client) -> None:
    sid = _sid()
    api.post("/agents/WeatherAgent/run", json={"message": "remember me", "sessionId": sid})
    r = api.delete(f"/agents/WeatherAgent/{sid}")
    assert r.status_code == 200
    assert r.json() == {"status": "reset", "sessionId": sid}
    assert api.get(f"/agents/WeatherAgent/{sid}").status_code == 404
    again = api.post("/agents/WeatherAgent/run", json={"message": "hello", "sessionId": sid})
    assert again.json()["message_count"] == 1


def test_text_plain_in_and_out(api: httpx.Client) -> None:
    r = api.post("/agents/WeatherAgent/run", content="hi there", headers={"content-type": "text/plain"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == "You said: 'hi there'. This is offline reply #1 in this conversation."
    sid = r.headers["x-ms-session-id"]
    assert api.get(f"/agents/WeatherAgent/{sid}").json()["message_count"] == 1


def test_idempotency_key_replays_without_running_again(api: httpx.Client) -> None:
    sid, key = _sid(), "key-" + _sid()
    first = api.post(
        "/agents/WeatherAgent/run",
        json={"message": "once", "sessionId": sid},
        headers={"Idempotency-Key": key},
    )
    again = api.post(
        "/agents/WeatherAgent/run",
        json={"message": "once", "sessionId": sid},
        headers={"Idempotency-Key": key},
    )
    assert first.json() == again.json()
    assert first.json()["correlationId"] == key
    other = api.post(
        "/agents/WeatherAgent/run",
        json={"message": "twice", "sessionId": sid},
        headers={"Idempotency-Key": key},
    )
    assert other.status_code == 422
    assert api.get(f"/agents/WeatherAgent/{sid}").json()["message_count"] == 1


def test_a_killed_host_finishes_the_turn_after_restart(tmp_path: object) -> None:
    store = f"{tmp_path}/store.sqlite"
    host = LocalHost(SAMPLE, store=store, env=FAULTS).start()
    try:
        sid = _sid()
        done = httpx.post(
            host.url("/api/agents/WeatherAgent/run"), json={"message": "kept", "sessionId": sid}, timeout=30
        )
        assert done.status_code == 200
        slow = httpx.post(
            host.url("/api/agents/WeatherAgent/run"),
            json={"message": "interrupted #sleep:3", "sessionId": sid},
            headers={"Prefer": "respond-async"},
            timeout=30,
        )
        assert slow.status_code == 202  # acknowledged: the signal is committed
        wait_for(lambda: _running(slow.headers["location"]))  # the turn is inside the entity now
        host.kill()
        host.restart(**FAULTS)
        location = slow.headers["location"].replace(slow.headers["location"].split("/api/")[0], host.base_url)
        result = _polled(location, timeout=30)
        assert result.status_code == 200, result.text
        state = httpx.get(host.url(f"/api/agents/WeatherAgent/{sid}"), timeout=30).json()
        assert [e["content"] for e in state["conversation_history"] if e["role"] == "user"] == [
            "kept",
            "interrupted #sleep:3",
        ]
    finally:
        if host.running:
            host.stop()
