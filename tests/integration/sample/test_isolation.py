"""Issue 11.1 and 11.7 over real HTTP: no request, reply or tool can take the host's shared loops.

* a response schema whose `$ref` expansion is exponential (the review's: ~2 KB, 63 refs, 31 levels
  of `allOf` pointing twice at the next definition) is refused up front with a 400 problem;
* a schema within the expansion limit whose reply is still costly to check fails its own turn with
  `422 structured-output-invalid` naming the validator's budget, while another session's turn
  completes in the meantime;
* SIGTERM stops a host whose turn hangs; a tool asked for unbounded work refuses it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

from .conftest import FAULTS, SAMPLE

RUN = "/api/agents/WeatherAgent/run"
BUDGET = "Checking the agent's reply against the response_schema exceeded its work budget."


def chain_schema(levels: int, **outer: Any) -> dict[str, Any]:
    """`levels` definitions, each an `allOf` of two `$ref`s to the next: 2^levels subschemas expanded."""
    defs: dict[str, Any] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(levels)
    }
    defs[f"d{levels}"] = {"type": "string"}
    return {**outer, "$defs": defs}


HOSTILE = chain_schema(31, **{"$ref": "#/$defs/d0"})  # the review's schema
# 64 pairs, each item checked against 2^9 leaves: accepted (under 8192 subschemas), and about 260,000
# keyword evaluations per reply: over the work budget (200,000) on any machine, however fast.
PAIR = {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/d0"}}
COSTLY = chain_schema(9, type="array", minItems=64, items=PAIR)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    with LocalHost(SAMPLE, store=tmp_path_factory.mktemp("iso") / "store.sqlite", env=FAULTS) as running:
        yield running


def _sid() -> str:
    return uuid.uuid4().hex


def _final(location: str) -> httpx.Response:
    response: httpx.Response = wait_for(
        lambda: (r := httpx.get(location, timeout=30)).status_code != 202 and r, 60, interval=0.1
    )
    return response


def test_exponential_schema_is_refused_up_front(host: LocalHost) -> None:
    import json

    assert len(json.dumps(HOSTILE)) < 2300
    assert json.dumps(HOSTILE).count("$ref") == 63
    sid = _sid()
    r = httpx.post(
        host.url(RUN), json={"message": "hi", "sessionId": sid, "response_schema": HOSTILE}, timeout=30
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith("/invalid-response-schema")
    assert body["errors"] == [
        {
            "pointer": "/response_schema",
            "message": "expands to more than 8192 subschemas once its $refs are followed",
        }
    ]
    assert httpx.get(host.url(f"/api/agents/WeatherAgent/{sid}"), timeout=30).status_code == 404  # no state


def test_costly_reply_check_fails_its_turn_while_other_sessions_answer(host: LocalHost) -> None:
    slow_sid = _sid()
    slow = httpx.post(
        host.url(RUN),
        json={"message": "tags", "sessionId": slow_sid, "response_schema": COSTLY},
        headers={"Prefer": "respond-async"},
        timeout=30,
    )
    assert slow.status_code == 202, slow.text
    location = slow.headers["location"]
    wait_for(lambda: httpx.get(location, timeout=30).json()["status"] == "running", 30, interval=0.02)
    # While that reply is being checked, turns of other sessions go through, one after another.
    others = []
    for i in range(3):
        r = httpx.post(host.url(RUN), json={"message": f"hello {i}", "sessionId": _sid()}, timeout=30)
        assert r.status_code == 200, r.text
        others.append(httpx.get(location, timeout=30).status_code)
    assert others[0] == 202  # observed: the costly turn was still running when another one finished
    done = _final(location)
    assert done.status_code == 422, done.text
    assert done.json()["type"].endswith("/structured-output-invalid")
    assert done.json()["detail"] == BUDGET
    history = httpx.get(host.url(f"/api/agents/WeatherAgent/{slow_sid}"), timeout=30).json()
    assert history["message_count"] == 1  # recorded once, as the turn's error
    assert history["conversation_history"][1]["error"]["type"].endswith("/structured-output-invalid")
    again = httpx.post(host.url(RUN), json={"message": "next", "sessionId": slow_sid}, timeout=30)
    assert again.status_code == 200
    assert again.json()["message_count"] == 2


def test_a_tool_refuses_unbounded_work(host: LocalHost) -> None:
    def ask(message: str) -> str:
        r = httpx.post(host.url(RUN), json={"message": message, "sessionId": _sid()}, timeout=30)
        assert r.status_code == 200, r.text
        return str(r.json()["response"])

    assert ask("forecast for Paris for 2 days").count("'conditions': 'Clear'") == 2  # the tool ran
    refused = ask("forecast for Paris for 3000000 days")
    assert "Argument parsing failed" in refused
    assert "conditions" not in refused


def test_sigterm_stops_a_host_whose_turn_hangs(tmp_path: Any) -> None:
    running = LocalHost(
        SAMPLE, store=tmp_path / "store.sqlite", env=FAULTS, extra_args=["--shutdown-timeout", "2"]
    )
    running.start()
    try:
        r = httpx.post(
            running.url(RUN),
            json={"message": "hang #sleep:3600", "sessionId": _sid()},
            headers={"Prefer": "respond-async"},
            timeout=30,
        )
        assert r.status_code == 202
        wait_for(lambda: httpx.get(r.headers["location"], timeout=30).json()["status"] == "running", 30)
        code = running.stop(timeout=60)  # SIGTERM; a host that did not exit would be SIGKILLed (-9)
        assert code == 0, running.output()
    finally:
        if running.running:
            running.kill()
