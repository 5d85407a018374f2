"""samples/orchestration_chaining: two turns of one agent in one session, as orchestration steps."""

from __future__ import annotations

import httpx

from .conftest import finished, history, start

SAMPLE = "orchestration_chaining"


def test_two_chained_turns_in_one_session_visible_over_http(http: httpx.Client) -> None:
    links = start(http, "/api/chaining/run", {"topic": "tea"})
    doc = finished(http, links)
    assert doc["runtimeStatus"] == "Completed", doc
    output = doc["output"]
    assert output["first"].startswith("You said: 'Write a slogan about tea.'")
    assert output["final"].endswith("offline reply #2 in this conversation.")  # it saw the first turn
    turns = history(http, "WriterAgent", output["sessionId"])
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    ids = [t["correlationId"] for t in turns]
    assert ids[0] == ids[1] != ids[2] == ids[3]
    assert all(i.startswith("orch-") for i in ids)


def test_a_bad_start_body_is_a_400_problem(http: httpx.Client) -> None:
    resp = http.post("/api/chaining/run", json={"topic": ""})
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
