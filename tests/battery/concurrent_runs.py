"""Simultaneous runs on one session: all answer, each runs exactly once, never two at once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from .checks import check_history, get_conversation, read_probe
from .hosts import AGENT, MARKER, REQUEST_TIMEOUT, BatteryFailure
from .turns import Stats


def simultaneously(count: int, send: Callable[[int], httpx.Response]) -> dict[int, httpx.Response]:
    """Call ``send(i)`` for every i from ``count`` threads released together; all must answer."""
    barrier = threading.Barrier(count)
    results: dict[int, httpx.Response] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(30)
            results[i] = send(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise errors[0]
    if len(results) != count:
        raise BatteryFailure(f"only {len(results)} of {count} simultaneous requests answered")
    return results


def runs_at_once(base_url: str, workdir: Path, session: str, runs: int, stats: Stats, seed: int = 3) -> None:
    """``runs`` simultaneous POSTs (0–50 ms jitter) on one session: all 200, each exactly once, in the
    order the entity took them, each user message followed by its own reply, never two at once."""
    rng = random.Random(seed)
    jitter = [rng.uniform(0, 0.05) for _ in range(runs)]

    def send(i: int) -> httpx.Response:
        time.sleep(jitter[i])  # 0-50 ms jitter between the simultaneous POSTs: the load under test
        body = {"message": f"turn 'm-{session}-{i}' #sleep:0.02", "sessionId": session}
        response = httpx.post(
            f"{base_url}/api/agents/{AGENT}/run",
            json=body,
            headers={"Idempotency-Key": f"c-{session}-{i}"},
            timeout=REQUEST_TIMEOUT,
        )
        stats.count(response.status_code, response.text)
        return response

    results = simultaneously(runs, send)
    bad = [r for r in results.values() if r.status_code != 200]
    if bad:
        raise BatteryFailure(f"{len(bad)} runs failed, e.g. {bad[0].status_code} {bad[0].text[:300]}")
    turn_of = {i: int(r.json()["turn"]) for i, r in results.items()}
    if sorted(turn_of.values()) != list(range(1, runs + 1)):
        raise BatteryFailure(f"turn numbers are not a permutation of 1..{runs}: {sorted(turn_of.values())}")
    with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
        body = get_conversation(http, base_url, session)
    history = body["conversation_history"]
    users = check_history(history)
    if len(users) != runs or body["message_count"] != runs:
        raise BatteryFailure(f"{len(users)} turns stored for {runs} runs")
    by_turn = {t: i for i, t in turn_of.items()}
    for turn, user in enumerate(users, start=1):
        i = by_turn[turn]
        marker = f"m-{session}-{i}"
        reply = str(history[2 * turn - 1]["content"])
        if user["correlationId"] != f"c-{session}-{i}" or MARKER.findall(str(user["content"])) != [marker]:
            raise BatteryFailure(f"turn {turn} holds {user['content']!r}, acknowledged for run {i}")
        if (
            marker not in reply
            or f"offline reply #{turn} " not in reply
            or results[i].json()["response"] != reply
        ):
            raise BatteryFailure(f"turn {turn}: the reply {reply!r} is not run {i}'s own")
    with stats.lock:
        stats.acked += runs
    probe = read_probe(workdir / "probe.log", session)
    if probe.max_per_session != 1:
        raise BatteryFailure(
            f"{probe.max_per_session} runs of session {session} were inside the agent at once"
        )
    if dict(probe.runs) != {f"m-{session}-{i}": 1 for i in range(runs)}:
        raise BatteryFailure("the agent did not run exactly once per request")
