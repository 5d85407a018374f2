"""samples/orchestration_approval: a draft waits for a human decision raced against a durable timer."""

from __future__ import annotations

from typing import Any

import httpx

from durableagent.testing.polling import wait_for

from .conftest import finished, history, start, status

SAMPLE = "orchestration_approval"


def _awaiting(http: httpx.Client, links: dict[str, Any], attempt: int) -> dict[str, Any]:
    def check() -> Any:
        custom = status(http, links).get("customStatus") or {}
        return (
            custom
            if custom.get("stage") == "awaiting_approval" and custom.get("attempt") == attempt
            else None
        )

    return dict(wait_for(check, timeout=30))


def test_feedback_then_approval_over_the_app_route(http: httpx.Client) -> None:
    links = start(http, "/api/approval/run", {"topic": "the new app"})
    first = _awaiting(http, links, 1)
    instance = links["id"]
    resp = http.post(f"/api/approval/{instance}/decision", json={"approved": False, "feedback": "More fun"})
    assert resp.status_code == 202, resp.text
    second = _awaiting(http, links, 2)
    assert second["draft"] != first["draft"]
    assert http.post(f"/api/approval/{instance}/decision", json={"approved": True}).status_code == 202
    doc = finished(http, links)
    assert doc["output"]["status"] == "published"
    assert doc["output"]["attempts"] == 2
    assert doc["output"]["text"] == second["draft"]
    turns = history(http, "WriterAgent", doc["output"]["sessionId"])
    assert [t["content"] for t in turns if t["role"] == "user"] == [
        "Write an announcement about the new app.",
        "Rewrite it. Reviewer feedback: More fun",
    ]
    late = http.post(f"/api/approval/{instance}/decision", json={"approved": True})
    assert late.status_code == 409


def test_approval_through_the_management_api(http: httpx.Client) -> None:
    links = start(http, "/api/approval/run", {"topic": "the new app"})
    _awaiting(http, links, 1)
    url = links["sendEventPostUri"].replace("{eventName}", "Approval")
    assert http.post(url, json={"approved": True}).status_code == 202
    assert finished(http, links)["output"]["status"] == "published"


def test_no_decision_in_time_ends_as_timed_out(http: httpx.Client) -> None:
    links = start(http, "/api/approval/run", {"topic": "the new app", "timeout_seconds": 1})
    doc = finished(http, links)
    assert doc["output"]["status"] == "timed_out"
    assert doc["customStatus"] == {"stage": "timed_out", "attempt": 1}


def test_bad_decisions_are_400_and_unknown_instances_404(http: httpx.Client) -> None:
    assert http.post("/api/approval/nope/decision", json={"approved": "yes"}).status_code == 400
    assert http.post("/api/approval/nope/decision", json={"approved": True}).status_code == 404
    assert http.post("/api/approval/run", json={"topic": "x", "timeout_seconds": -1}).status_code == 400
