"""Every route's error paths over real HTTP: the right status, a problem+json body with a stable type,
and never exception text. (The hostile-input battery in tests/battery goes much further.)"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

P = "https://durableagent.dev/problems/"
RUN = "/agents/WeatherAgent/run"


def _problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["type"] == P + slug, body
    assert body["status"] == status
    assert "Traceback" not in r.text
    assert "sk-test-SECRET" not in r.text
    return body


@pytest.mark.parametrize(
    ("kwargs", "status", "slug"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "invalid-json"),
        ({"json": {"sessionId": "x"}}, 400, "invalid-request"),
        ({"json": {"message": "hi", "colour": "red"}}, 400, "invalid-request"),
        ({"json": {"message": "   "}}, 400, "invalid-request"),
        ({"json": {"message": "hi", "sessionId": "a", "session_id": "b"}}, 400, "conflicting-session-ids"),
        ({"json": {"message": "hi", "sessionId": "a@b"}}, 400, "invalid-request"),
        ({"json": {"message": "hi", "role": "system"}}, 403, "role-not-allowed"),
        ({"json": {"message": "hi", "response_schema": {"type": 12}}}, 400, "invalid-response-schema"),
        ({"json": {"message": "x" * 70_000}}, 413, "payload-too-large"),
        (
            {"content": b"message=hi", "headers": {"content-type": "application/x-www-form-urlencoded"}},
            415,
            "unsupported-media-type",
        ),
    ],
)
def test_run_rejects_bad_requests(api: httpx.Client, kwargs: dict[str, Any], status: int, slug: str) -> None:
    _problem(api.post(RUN, **kwargs), status, slug)


@pytest.mark.parametrize(
    ("directive", "status", "slug"),
    [
        ("#fail:transient", 503, "upstream-unavailable"),
        ("#fail:timeout", 504, "upstream-timeout"),
        ("#fail:rejected", 400, "upstream-rejected"),
        ("#fail:error", 500, "agent-failed"),
    ],
)
def test_run_reports_model_failures_as_problems(
    api: httpx.Client, directive: str, status: int, slug: str
) -> None:
    sid = uuid.uuid4().hex
    body = _problem(api.post(RUN, json={"message": f"x {directive}", "sessionId": sid}), status, slug)
    assert body["sessionId"] == sid
    assert body["correlationId"]
    if status == 503:
        r = api.post(RUN, json={"message": "again #fail:transient", "sessionId": sid})
        assert int(r.headers["retry-after"]) >= 1


def test_run_unknown_agent_method_and_preconditions(api: httpx.Client) -> None:
    _problem(api.post("/agents/NoSuchAgent/run", json={"message": "hi"}), 404, "agent-not-found")
    _problem(api.get(RUN), 405, "method-not-allowed")
    sid = uuid.uuid4().hex
    ok = api.post(RUN, json={"message": "hi", "sessionId": sid})
    _problem(
        api.post(RUN, json={"message": "hi", "sessionId": sid}, headers={"If-Match": '"stale.0"'}),
        412,
        "precondition-failed",
    )
    assert (
        api.post(
            RUN, json={"message": "hi", "sessionId": sid}, headers={"If-Match": ok.headers["etag"]}
        ).status_code
        == 200
    )


def test_agent_names_are_case_insensitive(api: httpx.Client) -> None:
    assert api.post("/agents/weatheragent/run", json={"message": "hi"}).status_code == 200


def test_session_routes_errors(api: httpx.Client) -> None:
    _problem(api.get("/agents/WeatherAgent/" + uuid.uuid4().hex), 404, "session-not-found")
    _problem(api.delete("/agents/WeatherAgent/" + uuid.uuid4().hex), 404, "session-not-found")
    _problem(api.get("/agents/WeatherAgent/bad%40id"), 400, "invalid-request")
    _problem(api.get("/agents/Nobody/some-session"), 404, "agent-not-found")
    _problem(api.put("/agents/WeatherAgent/some-session"), 405, "method-not-allowed")
    sid = uuid.uuid4().hex
    api.post(RUN, json={"message": "hi", "sessionId": sid})
    _problem(api.get(f"/agents/WeatherAgent/{sid}", params={"limit": 0}), 400, "invalid-request")
    _problem(
        api.delete(f"/agents/WeatherAgent/{sid}", headers={"If-Match": '"stale.1"'}),
        412,
        "precondition-failed",
    )
    assert api.get(f"/agents/WeatherAgent/{sid}").status_code == 200


def test_turn_route_errors(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    api.post(RUN, json={"message": "hi", "sessionId": sid})
    _problem(api.get(f"/agents/WeatherAgent/{sid}/turns/unknown-turn"), 404, "turn-not-found")
    _problem(api.get(f"/agents/WeatherAgent/{sid}/turns/bad%20id"), 400, "invalid-request")
    failed = api.post(
        RUN, json={"message": "x #fail:error", "sessionId": sid}, headers={"Idempotency-Key": "k-fail"}
    )
    assert failed.status_code == 500
    _problem(api.get(f"/agents/WeatherAgent/{sid}/turns/k-fail"), 500, "agent-failed")


def test_meta_routes_errors(api: httpx.Client) -> None:
    _problem(api.post("/health"), 405, "method-not-allowed")
    _problem(api.get("/docs/assets/nope.js"), 404, "not-found")
    assert api.get("/openapi.json").json()["openapi"].startswith("3.1")
