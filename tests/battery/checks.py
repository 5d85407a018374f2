"""The battery's checks: a conversation as ``GET`` shows it, the in-host probes, the side effects.

Every check compares what the host stored (or what the app's probes recorded) with what the
clients planned and got acknowledged, and raises ``BatteryFailure`` when they disagree.
"""

from __future__ import annotations

import collections
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .hosts import AGENT, MARKER, BatteryFailure
from .turns import PlannedTurn, Stats, TurnPlanner


def get_conversation(http: httpx.Client, base_url: str, session: str, **params: int) -> dict[str, Any]:
    response = http.get(f"{base_url}/api/agents/{AGENT}/{session}", params={"limit": 1000, **params})
    if response.status_code != 200:
        raise BatteryFailure(f"GET {session}: {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def check_history(history: Sequence[Mapping[str, Any]], first_turn: int = 1) -> list[Mapping[str, Any]]:
    """Pairs (user, reply) with contiguous turn numbers from ``first_turn``; returns the user entries."""
    if len(history) % 2:
        raise BatteryFailure(f"history has an odd number of entries ({len(history)}): a partial turn")
    users = []
    for i in range(0, len(history), 2):
        user, reply = history[i], history[i + 1]
        expected = first_turn + i // 2
        if user.get("role") != "user" or reply.get("role") != "assistant":
            raise BatteryFailure(
                f"entries {i}, {i + 1} are not a user message and its reply: {user}, {reply}"
            )
        if user.get("turn") != expected or reply.get("turn") != expected:
            raise BatteryFailure(f"turn numbers are not contiguous at entry {i}: expected {expected}")
        if user.get("correlationId") != reply.get("correlationId"):
            raise BatteryFailure(f"turn {expected}: the reply belongs to another request")
        users.append(user)
    return users


def check_session(
    http: httpx.Client, base_url: str, session: str, turns: Sequence[PlannedTurn], stats: Stats | None = None
) -> None:
    """Every planned (and acknowledged) turn exactly once, in order, each with its own reply."""
    unacked = [t.key for t in turns if not t.acked]
    if unacked:
        raise BatteryFailure(f"{session}: turns not acknowledged: {unacked[:5]}")
    if not turns:  # nothing was ever sent: the session must not exist
        absent = http.get(f"{base_url}/api/agents/{AGENT}/{session}")
        if absent.status_code != 404:
            raise BatteryFailure(f"GET {session} (never used): {absent.status_code} {absent.text[:300]}")
        return
    body = get_conversation(http, base_url, session)
    history = body["conversation_history"]
    users = check_history(history)
    n = len(users)
    if body["message_count"] != n or body.get("turn_count") != n or body.get("next_before") is not None:
        raise BatteryFailure(f"{session}: counts disagree with the history ({body['message_count']} vs {n})")
    seen = collections.Counter(m for u in users for m in MARKER.findall(str(u.get("content", ""))))
    expected = [t.marker for t in turns]
    lost = [m for m in expected if seen[m] == 0]
    duplicated = [m for m, c in seen.items() if c > 1]
    if stats is not None:
        with stats.lock:
            stats.lost += len(lost)
            stats.duplicated += len(duplicated)
    if lost or duplicated:
        raise BatteryFailure(f"{session}: lost {lost[:5]}, duplicated {duplicated[:5]}")
    markers = [MARKER.findall(str(u.get("content", "")))[0] for u in users]
    if markers != expected:
        raise BatteryFailure(f"{session}: turns out of order or foreign: {markers[:8]} vs {expected[:8]}")
    for index, (turn, user) in enumerate(zip(turns, users, strict=True), start=1):
        reply = history[2 * index - 1]
        if user.get("correlationId") != turn.key or turn.turn != index:
            raise BatteryFailure(f"{turn.marker}: acknowledged as turn {turn.turn}, stored as turn {index}")
        content = str(reply.get("content", ""))
        if "error" in reply:
            raise BatteryFailure(f"{turn.marker}: stored as a failed turn: {reply['error']}")
        if turn.tool:
            if content not in ("Here is what I found: recorded.", "Here is what I found: already recorded."):
                raise BatteryFailure(f"{turn.marker}: unexpected tool reply {content!r}")
        elif turn.marker not in content or f"offline reply #{index} " not in content:
            # "#N" counts the user messages the model saw: the history it got was complete and unique
            raise BatteryFailure(f"{turn.marker}: reply {content!r} is not turn {index}'s own")


# -- probes ------------------------------------------------------------------------------------------


@dataclass
class ProbeReport:
    runs: collections.Counter[str]  # agent runs per marker (more than 1: re-executed after a crash)
    max_per_session: int  # the most runs of one session ever inside the agent at once
    max_overall: int  # the most runs of any sessions at once


def read_probe(path: Path, session: str | None = None) -> ProbeReport:
    """Concurrency seen by the app's agent middleware (per host process: a killed one never exits)."""
    runs: collections.Counter[str] = collections.Counter()
    inside: dict[tuple[str, str], int] = collections.defaultdict(int)
    overall: dict[str, int] = collections.defaultdict(int)
    max_session = max_overall = 0
    if not path.exists():
        return ProbeReport(runs, 0, 0)
    for line in path.read_text().splitlines():
        event, entity, pid, marker = line.split(" ", 3)
        if session is not None and not entity.endswith(f"@{session}"):
            continue
        step = 1 if event == "enter" else -1
        inside[(pid, entity)] += step
        overall[pid] += step
        if event == "enter":
            runs[marker] += 1
        max_session = max(max_session, inside[(pid, entity)])
        max_overall = max(max_overall, overall[pid])
    return ProbeReport(runs, max_session, max_overall)


def read_effects(path: Path) -> tuple[int, int, collections.Counter[str]]:
    """``(executions, effects, effects per item)`` of the record_effect tool's ledger."""
    if not path.exists():
        return 0, 0, collections.Counter()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        executions = conn.execute("SELECT count(*) FROM executions").fetchone()[0]
        items = collections.Counter(row[0] for row in conn.execute("SELECT item FROM effects"))
    finally:
        conn.close()
    return int(executions), sum(items.values()), items


def check_effects(workdir: Path, tool_turns: Iterable[PlannedTurn]) -> int:
    """Each acknowledged tool turn took effect exactly once; returns the number of re-executions."""
    executions, effects, items = read_effects(workdir / "effects.sqlite")
    expected = collections.Counter(t.marker for t in tool_turns)
    if items != expected:
        missing = sorted(set(expected) - set(items))[:5]
        extra = sorted(m for m, c in items.items() if c != expected.get(m))[:5]
        raise BatteryFailure(f"side effects: missing {missing}, wrong count {extra}")
    return executions - effects


class Reader:
    """Reads the sessions over and over while they change: every GET must show committed turns only.

    A committed history is always a prefix of what a session's (sequential) client planned: whole
    turns, each once, in order. Transport errors while the host is down are expected; anything
    else is recorded as a violation.
    """

    def __init__(self, base_url: str, planner: TurnPlanner, sessions: Sequence[str], stats: Stats) -> None:
        self.base_url = base_url
        self.planner = planner
        self.sessions = list(sessions)
        self.stats = stats
        self.reads = 0
        self.violations: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reader", daemon=True)

    def start(self) -> Reader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as http:
            while not self._stop.is_set():
                for session in self.sessions:
                    try:
                        r = http.get(f"{self.base_url}/api/agents/{AGENT}/{session}")
                    except httpx.TransportError:
                        self._stop.wait(0.05)  # the host is down (being killed): retry shortly
                        continue
                    self.stats.count(r.status_code, r.text)
                    if r.status_code == 404:
                        continue
                    try:
                        self._check(session, r)
                    except (BatteryFailure, KeyError, ValueError) as exc:
                        self.violations.append(f"GET {session} while running: {exc}")
                    self.reads += 1

    def _check(self, session: str, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise BatteryFailure(f"{response.status_code} {response.text[:200]}")
        users = check_history(response.json()["conversation_history"])
        markers = [MARKER.findall(str(u.get("content", "")))[0] for u in users]
        planned = [t.marker for t in self.planner.planned[session][: len(markers)]]
        if markers != planned:
            raise BatteryFailure(f"not a prefix of the planned turns: {markers[-3:]} vs {planned[-3:]}")
