"""Streamed turns over real HTTP on the local host: SSE, resumption, AG-UI, bad input.

The sample runs in a subprocess host with the offline model streaming word by word a few
milliseconds apart, so a stream is still running while a test drops and resumes it.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ag_ui.core import Event, RunAgentInput, UserMessage
from ag_ui_validate import create_validator
from pydantic import TypeAdapter

from durableagent.testing.host import LocalHost
from tests.sse_client import SseEvent, events, text_of

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "weather"
SSE = {"Accept": "text/event-stream"}
AGENT = "/agents/WeatherAgent"
EVENT = TypeAdapter(Event)


@pytest.fixture(scope="module", params=["inprocess-rpc", "http-rpc"])
def host(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    """The sample, with the app's Durable client answered in-process, then over real HTTP RPC."""
    env = {
        "DURABLEAGENT_OFFLINE_FAULTS": "1",
        "DURABLEAGENT_OFFLINE_CHUNK_DELAY_MS": "5",
        "DURABLEAGENT_INPROCESS_RPC": "0" if request.param == "http-rpc" else "1",
    }
    served = LocalHost(SAMPLE, store=tmp_path_factory.mktemp("stream") / "store.sqlite", env=env)
    served.start()
    yield served
    assert served.stop() == 0, served.output()


@pytest.fixture
def api(host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=host.url("/api"), timeout=60) as client:
        yield client


def sid() -> str:
    return "s-" + uuid.uuid4().hex[:12]


def run_stream(
    api: httpx.Client, session: str, message: str, **headers: str
) -> tuple[httpx.Headers, list[SseEvent]]:
    body = {"message": message, "sessionId": session}
    with api.stream("POST", f"{AGENT}/run", json=body, headers={**SSE, **headers}) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return response.headers, list(events(response))


def attach(api: httpx.Client, session: str, cid: str, after: int | None = None) -> list[SseEvent]:
    headers = {**SSE, **({"Last-Event-ID": str(after)} if after is not None else {})}
    with api.stream("GET", f"{AGENT}/{session}/turns/{cid}/stream", headers=headers) as response:
        assert response.status_code == 200, response.read()
        return list(events(response))


def test_a_streamed_turn_is_numbered_complete_and_ends_with_the_json_reply(api: httpx.Client) -> None:
    session = sid()
    headers, stream = run_stream(api, session, "What is the weather in Seattle?")
    assert [e.id for e in stream] == list(range(1, len(stream) + 1))
    assert stream[0].type == "RUN_STARTED"
    assert stream[0].data["threadId"] == session
    details = stream[1].data["value"]
    assert (details["turn"], details["attempt"], details["sessionId"]) == (1, 1, session)
    kinds = [e.type for e in stream]
    for kind in (
        "TOOL_CALL_START",
        "TOOL_CALL_ARGS",
        "TOOL_CALL_END",
        "TOOL_CALL_RESULT",
        "TEXT_MESSAGE_START",
    ):
        assert kind in kinds
    assert kinds.count("TEXT_MESSAGE_CONTENT") > 3  # in pieces, not one block
    assert stream[-1].type == "RUN_FINISHED"
    result = stream[-1].data["result"]
    assert text_of(stream) == result["response"]
    cid = headers["x-ms-correlation-id"]
    assert api.get(f"{AGENT}/{session}/turns/{cid}").json() == result  # the same object as the 200 body


def test_resume_after_a_dropped_connection_at_a_random_event(api: httpx.Client) -> None:
    rng = random.Random()
    for _ in range(3):
        session = sid()
        seen: list[SseEvent] = []
        cut = rng.randint(1, 12)
        body = {"message": "Tell me about the weather in Paris and its history", "sessionId": session}
        with api.stream("POST", f"{AGENT}/run", json=body, headers=SSE) as response:
            cid = response.headers["x-ms-correlation-id"]
            for event in events(response):
                seen.append(event)
                if len(seen) == cut:
                    break  # the connection is dropped mid-stream
        rest = attach(api, session, cid, after=seen[-1].id)
        whole = attach(api, session, cid)
        assert [e.id for e in seen + rest] == [e.id for e in whole]  # no gap, no repeat
        assert seen + rest == whole
        assert whole[-1].type == "RUN_FINISHED"


def test_last_event_id_as_a_query_parameter_resumes_too(api: httpx.Client) -> None:
    session = sid()
    headers, stream = run_stream(api, session, "hello there")
    cid = headers["x-ms-correlation-id"]
    with api.stream("GET", f"{AGENT}/{session}/turns/{cid}/stream?lastEventId=3") as response:
        assert [e.id for e in events(response)] == [e.id for e in stream[3:]]


def test_a_client_that_disconnects_does_not_cancel_the_turn(api: httpx.Client) -> None:
    session = sid()
    body = {"message": "a long answer please about the weather", "sessionId": session}
    with api.stream("POST", f"{AGENT}/run", json=body, headers=SSE) as response:
        cid = response.headers["x-ms-correlation-id"]
        next(events(response))
    stream = attach(api, session, cid)  # waits for the end, which comes although nobody listened
    assert stream[-1].type == "RUN_FINISHED"
    assert api.get(f"{AGENT}/{session}/turns/{cid}").status_code == 200


def test_idempotency_key_replays_the_same_stream(api: httpx.Client) -> None:
    session, key = sid(), "idem-" + uuid.uuid4().hex
    first = run_stream(api, session, "hello once", **{"Idempotency-Key": key})[1]
    again = run_stream(api, session, "hello once", **{"Idempotency-Key": key})[1]
    assert again == first
    assert api.get(f"{AGENT}/{session}").json()["turn_count"] == 1


def test_two_concurrent_streams_on_one_session_serialize(api: httpx.Client, host: LocalHost) -> None:
    session = sid()
    results: dict[str, list[SseEvent]] = {}

    def one(name: str) -> None:
        with httpx.Client(base_url=host.url("/api"), timeout=60) as own:
            results[name] = run_stream(own, session, f"message {name}")[1]

    threads = [threading.Thread(target=one, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    turns = sorted(r[1].data["value"]["turn"] for r in results.values())
    assert turns == [1, 2]
    replies = sorted(r[-1].data["result"]["response"] for r in results.values())
    assert "reply #1" in replies[0] + replies[1]
    assert "reply #2" in replies[0] + replies[1]
    # the second turn saw the first one's history: it is reply #2 of the conversation
    for stream in results.values():
        turn = stream[1].data["value"]["turn"]
        assert f"reply #{turn}" in stream[-1].data["result"]["response"]


def test_a_failed_turn_streams_its_problem(api: httpx.Client) -> None:
    session = sid()
    _, stream = run_stream(api, session, "please #fail:rejected")
    assert stream[-1].type == "RUN_ERROR"
    problem = stream[-1].data["rawEvent"]
    plain = api.post(f"{AGENT}/run", json={"message": "again #fail:rejected", "sessionId": session})
    assert (problem["type"], problem["status"]) == (plain.json()["type"], plain.status_code)
    assert stream[-1].data["code"] == problem["type"].rsplit("/", 1)[-1]


def agui_input(session: str, run_id: str, text: str) -> dict[str, Any]:
    """A RunAgentInput built with the ag-ui-protocol package's own models, as an AG-UI client sends it."""
    run = RunAgentInput(
        thread_id=session,
        run_id=run_id,
        messages=[UserMessage(id="m1", role="user", content=text)],
        tools=[],
        context=[],
        state={},
        forwarded_props={},
    )
    body: dict[str, Any] = run.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


def test_the_ag_ui_route_streams_valid_ag_ui_events(api: httpx.Client) -> None:
    session, run_id = sid(), "run-" + uuid.uuid4().hex
    with api.stream(
        "POST", f"{AGENT}/ag-ui", json=agui_input(session, run_id, "weather in Oslo?"), headers=SSE
    ) as r:
        assert r.status_code == 200, r.read()
        stream = list(events(r))
    validator = create_validator()
    for e in stream:
        EVENT.validate_python(e.data)  # every event is a valid ag-ui-protocol model
        validator.feed(e.data)
    validator.finalize()
    report = validator.report()
    errors = [d for d in report.diagnostics if d.severity == "error"]
    assert errors == [], errors
    assert stream[0].data["runId"] == run_id
    assert stream[-1].type == "RUN_FINISHED"
    # posting the same run again attaches to it: no second turn
    with api.stream(
        "POST", f"{AGENT}/ag-ui", json=agui_input(session, run_id, "weather in Oslo?"), headers=SSE
    ) as r:
        assert list(events(r)) == stream
    assert api.get(f"{AGENT}/{session}").json()["turn_count"] == 1


def _problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/" + slug)


def test_bad_stream_input_is_a_problem_and_changes_nothing(api: httpx.Client) -> None:
    session = sid()
    body = {"message": "hi", "sessionId": session}
    bad = api.post(f"{AGENT}/run", json=body, headers={**SSE, "Last-Event-ID": "abc"})
    _problem(bad, 400, "invalid-last-event-id")
    _problem(api.get(f"{AGENT}/{session}"), 404, "session-not-found")  # nothing ran
    _problem(api.get(f"{AGENT}/{session}/turns/nope/stream", headers=SSE), 404, "turn-not-found")
    headers, _ = run_stream(api, session, "hello")
    cid = headers["x-ms-correlation-id"]
    url = f"{AGENT}/{session}/turns/{cid}/stream"
    _problem(api.get(url, headers={"Accept": "application/json"}), 406, "not-acceptable")
    _problem(api.get(url, headers={"Last-Event-ID": "-1"}), 400, "invalid-request")
    _problem(api.get(url + "?lastEventId=1e3"), 400, "invalid-request")
    _problem(api.post(f"{AGENT}/ag-ui", json={"threadId": session}, headers=SSE), 400, "invalid-request")
    no_user = agui_input(session, "r-1", "x")
    no_user["messages"] = [{"id": "m", "role": "assistant", "content": "hi"}]
    _problem(api.post(f"{AGENT}/ag-ui", json=no_user, headers=SSE), 400, "invalid-request")
    assert api.get(f"{AGENT}/{session}").json()["turn_count"] == 1
