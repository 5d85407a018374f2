"""What the model sees (issue 14.2): windows, token budgets and reducers cut the model's context only.

The offline model answers "offline reply #N" where N counts the user messages it was sent, so the
reply tells how many turns of history reached the model; ``GET`` must still return every turn.
"""

from __future__ import annotations

import re
import uuid

import httpx

_COUNT = re.compile(r"offline reply #(\d+) ")


def _converse(api: httpx.Client, agent: str, turns: int) -> tuple[str, list[int]]:
    sid = uuid.uuid4().hex
    seen = []
    for n in range(1, turns + 1):
        r = api.post(f"/agents/{agent}/run", json={"message": f"turn {n}", "sessionId": sid})
        assert r.status_code == 200, r.text
        found = _COUNT.search(r.json()["response"])
        assert found is not None, r.text
        seen.append(int(found.group(1)))
    return sid, seen


def _whole_history(api: httpx.Client, agent: str, sid: str, turns: int) -> None:
    body = api.get(f"/agents/{agent}/{sid}").json()
    assert body["message_count"] == turns
    users = [e["content"] for e in body["conversation_history"] if e["role"] == "user"]
    assert users == [f"turn {n}" for n in range(1, turns + 1)]


def test_the_whole_history_reaches_an_agent_without_a_window(api: httpx.Client) -> None:
    sid, seen = _converse(api, "Whole", 8)
    assert seen == list(range(1, 9))
    _whole_history(api, "Whole", sid, 8)


def test_a_window_of_three_turns_is_what_the_model_sees_and_get_stays_whole(api: httpx.Client) -> None:
    sid, seen = _converse(api, "Windowed", 8)
    assert seen == [1, 2, 3, 4, 4, 4, 4, 4]  # 3 turns of history + the new message
    _whole_history(api, "Windowed", sid, 8)


def test_a_token_budget_keeps_the_newest_turns_that_fit(api: httpx.Client) -> None:
    sid, seen = _converse(api, "Budgeted", 10)
    # one turn ("turn n" + a ~70-character reply) is about 20 estimated tokens: 40 hold 2 turns
    assert seen[:3] == [1, 2, 3]
    assert set(seen[3:]) == {3}
    _whole_history(api, "Budgeted", sid, 10)


def test_an_agent_framework_compaction_strategy_reduces_the_context(api: httpx.Client) -> None:
    sid, seen = _converse(api, "Reduced", 7)
    # SlidingWindowStrategy(keep_last_groups=4): two turns (a user and an assistant group each)
    assert seen == [1, 2, 3, 3, 3, 3, 3]
    _whole_history(api, "Reduced", sid, 7)
