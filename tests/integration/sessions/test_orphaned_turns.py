"""Every accepted turn reaches an end (issue 11.2), over real HTTP on the local host.

* A turn's ``Location`` still answers its result after 128 newer requests pushed it out of the
  session's request ledger: it is found in the transcript.
* A ``DELETE`` racing keyed runs leaves no ``Location`` answering 202 for ever: each turn ran before
  the reset (its ``Location`` then answers ``410 turn-discarded``) or after it (``200``).
"""

from __future__ import annotations

import threading
import uuid

import httpx

from durableagent.entity.record import REQUEST_LEDGER_SIZE
from durableagent.testing.polling import wait_for

ASYNC = {"Prefer": "respond-async"}


def _settled(location: str) -> httpx.Response:
    response: httpx.Response = wait_for(
        lambda: (r := httpx.get(location, timeout=30)).status_code != 202 and r, 60, interval=0.1
    )
    return response


def test_a_location_answers_after_the_ledger_forgot_the_turn(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    first = api.post("/agents/Whole/run", json={"message": "the first turn", "sessionId": sid}, headers=ASYNC)
    assert first.status_code == 202, first.text
    location = first.headers["Location"]
    assert _settled(location).status_code == 200
    for n in range(REQUEST_LEDGER_SIZE + 2):
        r = api.post("/agents/Whole/run", json={"message": f"turn {n}", "sessionId": sid})
        assert r.status_code == 200, r.text
    later = httpx.get(location, timeout=30)
    assert later.status_code == 200, later.text
    assert later.json()["response"].startswith("You said: 'the first turn'.")
    assert later.json()["turn"] == 1
    missing = api.get(f"/agents/Whole/{sid}/turns/never-sent")
    assert missing.status_code == 404


def test_a_reset_racing_keyed_runs_leaves_no_turn_accepted_for_ever(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    locations: list[str] = []
    waited: list[httpx.Response] = []
    lock = threading.Lock()

    def submit(n: int) -> None:
        headers = {"Idempotency-Key": uuid.uuid4().hex, **(ASYNC if n % 2 else {})}
        with httpx.Client(base_url=str(api.base_url), timeout=90) as client:
            r = client.post(
                "/agents/Worker/run",
                json={"message": f"keyed {n} #sleep:0.05", "sessionId": sid},
                headers=headers,
            )
        with lock:
            (locations.append(r.headers["Location"]) if r.status_code == 202 else waited.append(r))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(16)]
    for i, thread in enumerate(threads):
        thread.start()
        if i == 7:
            reset = api.delete(f"/agents/Worker/{sid}")
            assert reset.status_code in (200, 204, 404), reset.text
    for thread in threads:
        thread.join(90)
    assert len(locations) + len(waited) == 16
    assert all(r.status_code == 200 for r in waited), [r.text for r in waited]
    finals = [_settled(location) for location in locations]  # none stays 202
    for final in finals:
        if final.status_code != 200:
            assert final.status_code == 410, final.text
            assert final.json()["type"].endswith("/turn-discarded")


def test_after_a_reset_a_finished_turns_location_says_it_was_discarded(api: httpx.Client) -> None:
    sid = uuid.uuid4().hex
    key = uuid.uuid4().hex
    r = api.post(
        "/agents/Whole/run",
        json={"message": "before the reset", "sessionId": sid},
        headers={**ASYNC, "Idempotency-Key": key},
    )
    assert r.status_code == 202, r.text
    assert _settled(r.headers["Location"]).status_code == 200
    assert api.delete(f"/agents/Whole/{sid}").status_code in (200, 204)
    gone = httpx.get(r.headers["Location"], timeout=30)
    assert gone.status_code == 410, gone.text
    assert gone.json()["type"].endswith("/turn-discarded")
    retry = api.post(
        "/agents/Whole/run",
        json={"message": "before the reset", "sessionId": sid},
        headers={"Idempotency-Key": key},
    )
    assert retry.status_code == 410, retry.text  # a retry of a discarded request does not run it again
    fresh = api.post("/agents/Whole/run", json={"message": "after the reset", "sessionId": sid})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["message_count"] == 1
