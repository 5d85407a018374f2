"""A 1000-turn session keeps working, and its GET stays complete: whole, and page by page.

Correctness only (``bench/`` measures speed): every turn exactly once with its own reply, turns
1..1000, the model saw the whole history on every turn (the offline reply counts it), and walking
``?limit=&before=`` pages along ``next_before`` rebuilds exactly the unpaged history.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx
import pytest

from .checks import check_history
from .conftest import Battery
from .hosts import AGENT, REQUEST_TIMEOUT

TURNS = 1000
WRITERS = 4


def _fill(battery: Battery, session: str) -> None:
    """TURNS turns from WRITERS concurrent clients (the entity orders them; markers are unique)."""
    errors: list[str] = []

    def writer(w: int) -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
            for n in range(w, TURNS, WRITERS):
                marker = f"m-{session}-{n}"
                r = http.post(
                    battery.host.url(f"/api/agents/{AGENT}/run"),
                    json={"message": f"turn '{marker}'", "sessionId": session},
                    headers={"Idempotency-Key": f"l-{session}-{n}"},
                )
                if r.status_code != 200 or marker not in r.json()["response"]:
                    errors.append(f"{marker}: {r.status_code} {r.text[:200]}")
                    return

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert not errors, errors[:3]


@pytest.fixture(scope="module")
def long_session(battery: Battery) -> tuple[str, dict[str, Any]]:
    session = "l" + uuid.uuid4().hex[:12]
    _fill(battery, session)
    whole = battery.http.get(f"/agents/{AGENT}/{session}", params={"limit": TURNS})
    assert whole.status_code == 200
    return session, whole.json()


def test_a_thousand_turns_are_all_there_once_each_with_its_own_reply(
    long_session: tuple[str, dict[str, Any]],
) -> None:
    session, body = long_session
    history = body["conversation_history"]
    users = check_history(history)
    assert len(users) == TURNS == body["message_count"] == body["turn_count"]
    assert body["next_before"] is None
    markers = [u["content"].split("'")[1] for u in users]
    assert sorted(markers) == sorted(f"m-{session}-{n}" for n in range(TURNS))
    for turn, user in enumerate(users, start=1):
        reply = history[2 * turn - 1]["content"]
        assert user["content"].split("'")[1] in reply
        assert f"offline reply #{turn} " in reply  # the model was given all turn-1 earlier turns
    assert body["last_response"] == history[-1]["content"]


@pytest.mark.parametrize("limit", [1, 7, 64, 999, 1000])
def test_walking_the_pages_rebuilds_the_whole_history_exactly_once(
    battery: Battery, long_session: tuple[str, dict[str, Any]], limit: int
) -> None:
    session, whole = long_session
    pages: list[list[dict[str, Any]]] = []
    before: int | None = None
    while True:
        params = {"limit": limit} if before is None else {"limit": limit, "before": before}
        page = battery.http.get(f"/agents/{AGENT}/{session}", params=params).json()
        entries = page["conversation_history"]
        last = (before - 1) if before is not None else TURNS
        first = max(1, last - limit + 1)
        assert [e["turn"] for e in entries[::2]] == list(range(first, last + 1))  # newest last, contiguous
        check_history(entries, first_turn=first)
        assert page["message_count"] == TURNS == page["turn_count"]
        assert page["next_before"] == (first if first > 1 else None)
        pages.append(entries)
        before = page["next_before"]
        if before is None:
            break
        assert len(pages) <= TURNS
    assert len(pages) == -(-TURNS // limit)
    rebuilt = [entry for page in reversed(pages) for entry in page]
    assert rebuilt == whole["conversation_history"]


def test_page_edges(battery: Battery, long_session: tuple[str, dict[str, Any]]) -> None:
    session, whole = long_session
    history = whole["conversation_history"]

    def get(**params: int) -> dict[str, Any]:
        response = battery.http.get(f"/agents/{AGENT}/{session}", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    assert get(before=1)["conversation_history"] == []
    empty = get(before=1, limit=5)
    assert empty["conversation_history"] == []
    assert empty["next_before"] is None
    assert empty["message_count"] == TURNS
    assert get(before=TURNS + 500, limit=3)["conversation_history"] == history[-6:]
    older = get(before=501)  # before alone: the default page (100 turns) of what is older
    assert older["conversation_history"] == history[800:1000]
    assert older["next_before"] == 401
    newest = battery.http.get(f"/agents/{AGENT}/{session}")  # no parameters: the newest 100 turns
    assert newest.json()["conversation_history"] == history[-200:]
    assert newest.json()["next_before"] == TURNS - 99
    link = f'</api/agents/{AGENT}/{session}?limit=100&before={TURNS - 99}>; rel="next"'
    assert newest.headers["link"] == link
    follow = battery.http.get(newest.headers["link"][1:].split(">")[0].removeprefix("/api"))
    assert follow.json()["conversation_history"] == history[-400:-200]
    assert get(before=2, limit=10)["conversation_history"] == history[:2]
    for bad in ({"limit": 0}, {"limit": 1001}, {"before": 0}, {"limit": -1}):
        response = battery.http.get(f"/agents/{AGENT}/{session}", params=bad)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"


def test_the_session_keeps_working_after_a_thousand_turns(
    battery: Battery, long_session: tuple[str, dict[str, Any]]
) -> None:
    session, _ = long_session
    r = battery.http.post(f"/agents/{AGENT}/run", json={"message": "one more", "sessionId": session})
    assert r.status_code == 200
    assert r.json()["turn"] == TURNS + 1
    assert (
        r.json()["response"]
        == f"You said: 'one more'. This is offline reply #{TURNS + 1} in this conversation."
    )
