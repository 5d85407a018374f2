"""A multi-agent orchestration survives SIGKILL and crash points; every agent turn is recorded once.

The host is killed again and again while ``pipeline`` (tests/apps/orchestration_battery) runs:
SIGKILL at random moments and crashes at named points (after the model answered, inside and after
the entity's commit, after the transcript write). After each death it restarts on the same store.
The orchestration must complete, and each session's history must hold exactly the expected turns,
in order, each request id once: the replayed orchestrator re-sends the same request ids and the
session entity's ledger and journal keep a turn from being recorded twice.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent._faults import CRASH_ENV, CRASH_EXIT_CODE
from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

from .hosts import ROOT

APP = ROOT / "tests" / "apps" / "orchestration_battery"
ROUNDS = 12
MODES = (  # each mode starts with a SIGKILL; a crash point then runs the host until it dies there
    "random",
    "turn.after_model:2",
    "host.entity.in_commit:2",
    "random",
    "turn.after_transcript:2",
    "host.entity.after_commit:3",
)


def _status(http: httpx.Client, url: str) -> dict[str, Any] | None:
    try:
        resp = http.get(url)
    except httpx.TransportError:  # the host is down right now
        return None
    return dict(resp.json()) if resp.status_code in (200, 202) else None


def _done(http: httpx.Client, url: str) -> bool:
    doc = _status(http, url)
    return doc is not None and doc["runtimeStatus"] in ("Completed", "Failed", "Terminated")


@pytest.mark.timeout(900)  # ten host restarts; on a loaded machine each takes seconds
def test_orchestration_completes_through_kills_with_each_turn_once(tmp_path: Path) -> None:
    rng = random.Random(5)
    host = LocalHost(APP, store=tmp_path / "store.sqlite", env={"BATTERY_MODEL_MS": "250"}).start()
    exits: list[tuple[str, int]] = []
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        resp = http.post("/api/pipeline/run", params={"rounds": str(ROUNDS)})
        assert resp.status_code == 202, resp.text
        url = resp.json()["statusQueryGetUri"]
        for mode in MODES:
            if _done(http, url):
                break
            time.sleep(rng.uniform(0.2, 0.9))  # chaos timing: let the host work a random moment
            exits.append(("sigkill", host.kill()))
            if mode == "random":
                host.restart(**{CRASH_ENV: ""})
                continue
            host.restart(**{CRASH_ENV: mode})
            wait_for(lambda: not host.running or _done(http, url), timeout=60, interval=0.02)
            if not host.running:
                exits.append((mode, host.wait_exit()))
            host.restart(**{CRASH_ENV: ""})
        doc = wait_for(
            lambda: (d := _status(http, url)) is not None and d["runtimeStatus"] != "Running" and d, 60
        )
        assert doc["runtimeStatus"] == "Completed", (doc, host.output()[-3000:])
        writer = _history(http, "Writer", doc["output"]["writer"])
        editor = _history(http, "Editor", doc["output"]["editor"])
    assert host.stop() == 0
    assert [t["content"] for t in writer if t["role"] == "user"] == [
        f"draft {n}" for n in range(1, ROUNDS + 1)
    ] + ["final"]
    edits = [t["content"] for t in editor if t["role"] == "user"]
    assert [e.split(":")[0] for e in edits] == [f"edit {n}" for n in range(1, ROUNDS + 1)] + ["final"]
    for turns in (writer, editor):
        per_request = Counter(t["correlationId"] for t in turns)
        assert set(per_request.values()) == {2}  # one user and one assistant entry per request
        assert [t["turn"] for t in turns if t["role"] == "user"] == list(range(1, ROUNDS + 2))
    assert sum(1 for mode, code in exits if mode == "sigkill" and code == -9) >= 6, exits
    assert sum(1 for mode, code in exits if mode != "random" and code == CRASH_EXIT_CODE) >= 3, exits
    print(f"deaths: {exits}")


def _history(http: httpx.Client, agent: str, session: str) -> list[dict[str, Any]]:
    resp = http.get(f"/api/agents/{agent}/{session}")
    assert resp.status_code == 200, resp.text
    return list(resp.json()["conversation_history"])
