"""Double-texting (issue 14.6): 20 concurrent requests on one session under each multitask_strategy.

Every request has its own Idempotency-Key and message; afterwards the session's history must hold
each turn that ran exactly once, in one piece (a user entry, then its own reply or its error), and
every request must have a final answer: no lost, duplicated or interleaved turns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from durableagent.testing.polling import wait_for

CLIENTS = 20


def _burst(
    base_url: str, agent: str, sid: str, body: Callable[[int], dict[str, Any]]
) -> dict[str, httpx.Response]:
    keys = [uuid.uuid4().hex for _ in range(CLIENTS)]

    def send(i: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=90) as client:
            return client.post(
                f"/agents/{agent}/run",
                json={"sessionId": sid, **body(i)},
                headers={"Idempotency-Key": keys[i]},
            )

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(send, range(CLIENTS)))
    return dict(zip(keys, answers, strict=True))


def _turns(api: httpx.Client, agent: str, sid: str) -> list[tuple[str, dict[str, Any]]]:
    """The history as (correlation id, outcome entry) pairs, checking each turn is one piece."""
    history = api.get(f"/agents/{agent}/{sid}").json()["conversation_history"]
    pairs = []
    assert len(history) % 2 == 0, history
    for user, outcome in zip(history[::2], history[1::2], strict=True):
        assert user["role"] == "user"
        assert outcome["role"] == "assistant"
        assert outcome["correlationId"] == user["correlationId"]  # not interleaved
        if not outcome.get("error") and "#tool:" not in user["content"]:
            assert f"You said: '{user['content']}'" in outcome["content"]
        pairs.append((user["correlationId"], outcome))
    ids = [cid for cid, _ in pairs]
    assert len(ids) == len(set(ids)), "a turn ran twice"
    return pairs


def _slug(r: httpx.Response) -> str:
    return str(r.json()["type"]).rsplit("/", 1)[-1]


def test_enqueue_runs_every_turn_once_in_order(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    answers = _burst(str(api.base_url), "Whole", sid, lambda i: {"message": f"enqueue {i}"})
    assert {r.status_code for r in answers.values()} == {200}, [r.text for r in answers.values()]
    turns = _turns(api, "Whole", sid)
    assert sorted(cid for cid, _ in turns) == sorted(answers)
    numbers = [r.json()["message_count"] for r in answers.values()]
    assert sorted(numbers) == list(range(1, CLIENTS + 1))  # one after the other, none lost


def test_reject_runs_some_and_refuses_the_rest_with_retry_after(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    answers = _burst(
        str(api.base_url),
        "Worker",
        sid,
        lambda i: {"message": f"reject {i} #sleep:0.3", "multitask_strategy": "reject"},
    )
    ran = {k for k, r in answers.items() if r.status_code == 200}
    refused = {k for k, r in answers.items() if r.status_code == 409}
    assert ran, "no request ran"
    assert ran | refused == set(answers), [r.text for r in answers.values()]
    assert refused, "a burst of 20 on one session must find it busy"
    for key in refused:
        assert _slug(answers[key]) == "session-busy"
        assert answers[key].headers["Retry-After"] == "1"
    assert {cid for cid, _ in _turns(api, "Worker", sid)} == ran  # refused ones left nothing behind
    retry_key = next(iter(ran))  # a retry of an accepted request is answered, never refused
    retry = api.post(
        "/agents/Worker/run",
        json={
            "sessionId": sid,
            "message": answers[retry_key].json()["message"],
            "multitask_strategy": "reject",
        },
        headers={"Idempotency-Key": retry_key},
    )
    assert retry.status_code == 200, retry.text


def test_interrupt_cancels_older_turns_and_the_newest_runs(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    answers = _burst(
        str(api.base_url),
        "Worker",
        sid,
        lambda i: {"message": f"interrupt {i} #sleep:0.3", "multitask_strategy": "interrupt"},
    )
    ran = {k for k, r in answers.items() if r.status_code == 200}
    cancelled = {k for k, r in answers.items() if r.status_code == 409}
    assert ran, "no request ran"
    assert ran | cancelled == set(answers), [r.text for r in answers.values()]
    assert cancelled, "a burst of 20 interrupts on one session must cancel some"
    assert all(_slug(answers[k]) == "turn-cancelled" for k in cancelled)
    turns = dict(_turns(api, "Worker", sid))
    assert set(turns) == set(answers)  # every request is in the history once: a reply or cancelled
    for key, outcome in turns.items():
        assert (key in cancelled) == bool(outcome.get("error")), outcome
        if key in cancelled:
            assert str(outcome["error"]["type"]).endswith("/turn-cancelled")


def test_a_text_plain_run_takes_the_strategy_from_the_query(api: httpx.Client, probe_dir: Path) -> None:
    sid, item = uuid.uuid4().hex, f"p{uuid.uuid4().hex[:8]}"
    first = api.post(
        "/agents/Worker/run",
        json={"message": f"#tool:slow_step '{item}' m-{item}", "sessionId": sid},
        headers={"Prefer": "respond-async"},
    )
    assert first.status_code == 202, first.text
    wait_for(lambda: (probe_dir / f"{item}.started").exists(), 30)
    busy = api.post(
        f"/agents/Worker/run?sessionId={sid}&multitask_strategy=reject",
        content="are you there?",
        headers={"Content-Type": "text/plain"},
    )
    assert busy.status_code == 409, busy.text
    assert _slug(busy) == "session-busy"
    assert busy.headers["Retry-After"] == "1"
    bad = api.post(
        f"/agents/Worker/run?sessionId={sid}&multitask_strategy=later",
        content="x",
        headers={"Content-Type": "text/plain"},
    )
    assert bad.status_code == 400, bad.text
    (probe_dir / f"{item}.release").touch()
    wait_for(lambda: httpx.get(first.headers["Location"], timeout=30).status_code == 200, 60)
    assert [cid for cid, _ in _turns(api, "Worker", sid)] == [first.headers["x-ms-correlation-id"]]


def test_a_streamed_run_is_admitted_under_its_strategy(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    slow = api.post(
        "/agents/Worker/run",
        json={"sessionId": sid, "message": "slow #sleep:3"},
        headers={"Prefer": "respond-async"},
    )
    assert slow.status_code == 202, slow.text
    location = slow.headers["location"]
    wait_for(lambda: api.get(location).json().get("status") == "running", 30, interval=0.02)
    stream_headers = {"Accept": "text/event-stream"}
    refused = api.post(
        "/agents/Worker/run",
        json={"sessionId": sid, "message": "streamed", "multitask_strategy": "reject"},
        headers=stream_headers,
    )
    assert refused.status_code == 409, refused.text
    assert _slug(refused) == "session-busy"
    assert refused.headers["retry-after"]
    with api.stream(
        "POST",
        "/agents/Worker/run",
        json={"sessionId": sid, "message": "streamed", "multitask_strategy": "interrupt"},
        headers=stream_headers,
    ) as streamed:
        assert streamed.status_code == 200
        body = "".join(streamed.iter_text())
    assert "RUN_FINISHED" in body
    older = api.get(location)
    assert older.status_code == 409, older.text
    assert _slug(older) == "turn-cancelled"
