"""Model and tool failures: the right problem, the state exactly as before (plus at most one error
record), the next turn works; a turn that crashes the worker every time is poisoned after K=3.

Failures come from the offline model's directives (``#fail:timeout``, ``#fail:rejected``,
``#fail:error``, ``#bad-json``, ``#crash``) and the battery app (``#flaky:NAME`` is an upstream
outage that ends when the test heals it; the ``detonate`` tool always raises).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent._faults import CRASH_ENV, CRASH_EXIT_CODE
from durableagent.testing.polling import wait_for

from .checks import check_history, read_effects
from .conftest import Battery
from .hosts import AGENT, REQUEST_TIMEOUT, battery_host

SECRET = "sk-test-SECRET"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _session() -> str:
    return "f" + uuid.uuid4().hex[:12]


def _conversation(battery: Battery, session: str) -> tuple[list[dict[str, Any]], str]:
    r = battery.http.get(f"/agents/{AGENT}/{session}")
    assert r.status_code == 200
    return r.json()["conversation_history"], r.headers["etag"]


def _run(battery: Battery, session: str, message: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", {})
    return battery.http.post(
        f"/agents/{AGENT}/run", json={"message": message, "sessionId": session, **extra}, headers=headers
    )


def _problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://durableagent.dev/problems/{slug}"
    assert body["status"] == status
    for leak in (SECRET, "Traceback", "/srv/"):
        assert leak not in response.text
    return body


@pytest.fixture
def started(battery: Battery) -> tuple[str, list[dict[str, Any]], str]:
    """A session with one good turn: (session, history, etag)."""
    session = _session()
    assert _run(battery, session, "first").status_code == 200
    history, etag = _conversation(battery, session)
    return session, history, etag


def _next_turn_works(battery: Battery, session: str, turn: int) -> None:
    r = _run(battery, session, "next")
    assert r.status_code == 200, r.text
    assert r.json()["turn"] == turn
    history, _ = _conversation(battery, session)
    check_history(history)


def test_transient_failure_is_503_with_retry_after_changes_nothing_and_the_same_key_then_succeeds(
    battery: Battery, started: tuple[str, list[dict[str, Any]], str]
) -> None:
    session, before, etag = started
    name = uuid.uuid4().hex[:8]
    message = f"outage #flaky:{name}"
    key = {"Idempotency-Key": f"t-{session}"}
    failed = _run(battery, session, message, headers=key)
    _problem(failed, 503, "upstream-unavailable")
    assert int(failed.headers["retry-after"]) >= 1
    assert _conversation(battery, session) == (before, etag)  # nothing recorded, not even an error
    again = _run(battery, session, message, headers=key)  # still down: still 503, still nothing
    _problem(again, 503, "upstream-unavailable")
    assert _conversation(battery, session) == (before, etag)
    (battery.workdir / f"{name}.healed").touch()
    healed = _run(battery, session, message, headers=key)
    assert healed.status_code == 200, healed.text
    assert healed.json()["correlationId"] == f"t-{session}"
    assert healed.json()["turn"] == 2
    after, _ = _conversation(battery, session)
    assert after[:2] == before
    assert len(after) == 4
    assert [e["correlationId"] for e in after[2:]] == [f"t-{session}"] * 2
    assert _run(battery, session, message, headers=key).json() == healed.json()  # and it is final now
    _next_turn_works(battery, session, 3)


def test_timeout_is_504_and_changes_nothing(
    battery: Battery, started: tuple[str, list[dict[str, Any]], str]
) -> None:
    session, before, etag = started
    _problem(_run(battery, session, "slow #fail:timeout"), 504, "upstream-timeout")
    assert _conversation(battery, session) == (before, etag)
    _next_turn_works(battery, session, 2)


@pytest.mark.parametrize(
    ("message", "extra", "status", "slug"),
    [
        ("rejected #fail:rejected", {}, 400, "upstream-rejected"),
        ("broken #bad-json", {"response_schema": SCHEMA}, 422, "structured-output-invalid"),
        ("crashing model #fail:error", {}, 500, "agent-failed"),
    ],
)
def test_a_failed_turn_adds_exactly_one_error_record(
    battery: Battery,
    started: tuple[str, list[dict[str, Any]], str],
    message: str,
    extra: dict[str, Any],
    status: int,
    slug: str,
) -> None:
    session, before, etag = started
    problem = _problem(_run(battery, session, message, **extra), status, slug)
    after, new_etag = _conversation(battery, session)
    assert after[:2] == before
    assert len(after) == 4
    assert new_etag != etag
    user, reply = after[2:]
    assert user["content"] == message
    assert user["correlationId"] == problem["correlationId"]
    assert reply["content"] == ""
    assert reply["error"]["status"] == status
    assert reply["error"]["type"].endswith(slug)
    check_history(after)
    _next_turn_works(battery, session, 3)


def test_a_failing_tool_is_reported_to_the_model_without_its_error_text(
    battery: Battery, started: tuple[str, list[dict[str, Any]], str]
) -> None:
    session, before, _ = started
    r = _run(battery, session, "please detonate 'box'")
    assert r.status_code == 200, r.text
    assert SECRET not in r.text
    after, _ = _conversation(battery, session)
    assert after[:2] == before
    assert len(after) == 4
    assert SECRET not in str(after)
    _next_turn_works(battery, session, 3)


def test_a_turn_that_crashes_the_worker_every_time_is_poisoned_after_three_attempts(tmp_path: Path) -> None:
    host = battery_host(tmp_path).start()
    session = _session()
    try:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
            run = host.url(f"/api/agents/{AGENT}/run")
            assert http.post(run, json={"message": "before", "sessionId": session}).status_code == 200
            try:
                accepted = http.post(
                    run,
                    json={"message": "poison #crash", "sessionId": session},
                    headers={"Idempotency-Key": f"p-{session}", "Prefer": "respond-async"},
                )
                assert accepted.status_code == 202
            except httpx.TransportError:
                pass  # the worker died before the 202 left; the signal was committed first
            for _ in range(3):  # every delivery of the turn kills the host: attempts 1, 2 and 3
                assert host.wait_exit(30) == CRASH_EXIT_CODE
                host.start()
            location = host.url(f"/api/agents/{AGENT}/{session}/turns/p-{session}")
            # the 4th delivery gives up instead of running the model
            turn = wait_for(lambda: (r := http.get(location)).status_code != 202 and r, timeout=30)
            _problem(turn, 500, "turn-poisoned")
            assert host.running
            retry = http.post(
                run,
                json={"message": "poison #crash", "sessionId": session},
                headers={"Idempotency-Key": f"p-{session}"},
            )
            _problem(retry, 500, "turn-poisoned")  # recorded as failed: a retry does not run it again
            body = http.get(host.url(f"/api/agents/{AGENT}/{session}")).json()
            history = body["conversation_history"]
            check_history(history)
            assert [e["content"] for e in history[::2]] == ["before", "poison #crash"]
            assert history[3]["error"]["type"].endswith("/turn-poisoned")
            after = http.post(run, json={"message": "after", "sessionId": session})
            assert after.status_code == 200
            assert after.json()["turn"] == 3  # the session stays usable
    finally:
        if host.running:
            host.stop()
    assert "poisoned after 3 attempts" in host.output()


def test_a_tool_run_again_after_a_crash_takes_effect_once(tmp_path: Path) -> None:
    """At-least-once execution, exactly-once effect: the tool's idempotency key survives the crash."""
    host = battery_host(tmp_path, env={CRASH_ENV: "turn.after_model"}).start()
    session = _session()
    body = {"message": "please record effect for 'm-x-1'", "sessionId": session}
    headers = {"Idempotency-Key": f"e-{session}"}
    run: Callable[[], httpx.Response] = lambda: httpx.post(  # noqa: E731
        host.url(f"/api/agents/{AGENT}/run"), json=body, headers=headers, timeout=REQUEST_TIMEOUT
    )
    try:
        with pytest.raises(httpx.TransportError):
            run()  # the tool ran, then the host died before the turn was written
        assert host.wait_exit(30) == CRASH_EXIT_CODE
        assert read_effects(tmp_path / "effects.sqlite")[:2] == (1, 1)
        host.env.pop(CRASH_ENV)
        host.start()
        r = run()
        assert r.status_code == 200, r.text
        assert r.json()["response"] == "Here is what I found: already recorded."
        executions, effects, items = read_effects(tmp_path / "effects.sqlite")
        assert (executions, effects, dict(items)) == (2, 1, {"m-x-1": 1})
    finally:
        if host.running:
            host.stop()


def test_a_turn_too_large_to_store_fails_at_once_and_changes_nothing(
    battery: Battery, started: tuple[str, list[dict[str, Any]], str]
) -> None:
    """A turn over the app's ``max_reply_bytes`` is refused whole (413 ``reply-too-large``); the
    request still gets its answer at once (it used to wait out the wait cap, then 202 for ever)."""
    session, before, etag = started
    key = {"Idempotency-Key": f"big-{session}"}
    r = _run(battery, session, "please inflate 'balloon'", headers={**key, "Prefer": "wait=10"})
    problem = _problem(r, 413, "reply-too-large")
    assert problem["correlationId"] == f"big-{session}"
    location = battery.http.get(f"/agents/{AGENT}/{session}/turns/big-{session}")
    _problem(location, 413, "reply-too-large")
    assert _conversation(battery, session) == (before, etag)
    _next_turn_works(battery, session, 2)
