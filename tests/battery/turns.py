"""The battery's clients: planned turns with unique markers and keys, retried until acknowledged.

A turn is *acknowledged* when its ``POST /run`` answered 200, or 202 and its ``Location`` later
answered 200. Until then the client repeats the same request with the same ``Idempotency-Key``,
across kills. ``Stats`` counts what the clients (and the killer) saw.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from .hosts import AGENT, REQUEST_TIMEOUT, BatteryFailure


@dataclass
class PlannedTurn:
    """One turn a client must get acknowledged: unique marker, unique key."""

    session: str
    n: int
    key: str
    marker: str
    message: str
    tool: bool
    respond_async: bool = False  # ask for a 202 at once, then follow its Location
    acked: bool = False
    turn: int | None = None  # the turn number the 200 reported
    attempts: int = 0
    seen: list[str] = field(default_factory=list)  # what each attempt got (for failure messages)


@dataclass
class Stats:
    """What the clients and the killer saw (thread-safe counters)."""

    kills: int = 0
    crash_point_kills: collections.Counter[str] = field(default_factory=collections.Counter)
    acked: int = 0
    requests: int = 0
    retries: int = 0
    transport_errors: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    server_errors: list[str] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, status: int, detail: str = "") -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] += 1
            if status >= 500:
                self.server_errors.append(f"{status} {detail[:300]}")

    @property
    def five_xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


class TurnPlanner:
    """Unique markers and keys per session (``m-<session>-<n>`` / ``k-<run>-<session>-<n>``)."""

    def __init__(self, rng: random.Random, *, tool_every: int = 4, max_sleep: float = 0.05) -> None:
        self.rng = rng
        self.run_id = f"{rng.getrandbits(32):08x}"
        self.tool_every = tool_every
        self.max_sleep = max_sleep
        self.planned: dict[str, list[PlannedTurn]] = collections.defaultdict(list)

    def next(self, session: str) -> PlannedTurn:
        n = len(self.planned[session]) + 1
        marker = f"m-{session}-{n}"
        tool = self.tool_every > 0 and n % self.tool_every == 0
        sleep = round(self.rng.uniform(0, self.max_sleep), 3) if self.max_sleep else 0
        text = f"please record effect for '{marker}'" if tool else f"turn '{marker}'"
        message = f"{text} #sleep:{sleep}" if sleep else text
        key = f"k-{self.run_id}-{session}-{n}"
        turn = PlannedTurn(session, n, key, marker, message, tool, respond_async=n % 3 == 2)
        self.planned[session].append(turn)
        return turn


def _validate_ok(turn: PlannedTurn, body: Mapping[str, Any]) -> None:
    if body.get("correlationId") != turn.key or body.get("sessionId") != turn.session:
        raise BatteryFailure(f"200 for {turn.key} answers another request: {dict(body)}")
    response = str(body.get("response", ""))
    if not turn.tool and turn.marker not in response:
        raise BatteryFailure(f"200 for {turn.marker} carries another reply: {response!r}")
    if not isinstance(body.get("turn"), int):
        raise BatteryFailure(f"200 for {turn.key} has no turn number: {dict(body)}")


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("retry-after", "0.2")), 1.0)
    except ValueError:
        return 0.2


def run_turn(
    http: httpx.Client, base_url: str, turn: PlannedTurn, stats: Stats, deadline: float, wait: float = 20.0
) -> None:
    """POST ``turn`` (same key every time) until it is acknowledged; raises BatteryFailure otherwise."""
    url = f"{base_url}/api/agents/{AGENT}/run"
    body = {"message": turn.message, "sessionId": turn.session}
    prefer = "respond-async" if turn.respond_async else f"wait={wait:g}"
    headers = {"Idempotency-Key": turn.key, "Prefer": prefer}
    while time.monotonic() < deadline:
        turn.attempts += 1
        if turn.attempts > 1:
            with stats.lock:
                stats.retries += 1
        try:
            response = http.post(url, json=body, headers=headers)
        except httpx.TransportError as exc:
            turn.seen.append(type(exc).__name__)
            with stats.lock:
                stats.transport_errors += 1
            time.sleep(0.05)  # a retrying client's back-off (the host may be down)
            continue
        turn.seen.append(str(response.status_code))
        stats.count(response.status_code, response.text)
        if response.status_code == 200:
            _acknowledge(turn, response.json(), stats)
            return
        if response.status_code == 202:
            location = response.headers["location"]
            path = location[location.index("/api/") :]
            if _poll(http, base_url + path, turn, stats, deadline):
                return
            continue
        if response.status_code == 503:
            time.sleep(_retry_after(response))  # the client honours Retry-After: behaviour under test
            continue
        raise BatteryFailure(f"{turn.key}: unexpected {response.status_code}: {response.text[:500]}")
    raise BatteryFailure(f"{turn.key} ({turn.marker}) was not acknowledged in time; got {turn.seen[-12:]}")


def _acknowledge(turn: PlannedTurn, body: Mapping[str, Any], stats: Stats) -> None:
    _validate_ok(turn, body)
    turn.acked, turn.turn = True, int(body["turn"])
    with stats.lock:
        stats.acked += 1


def _poll(http: httpx.Client, url: str, turn: PlannedTurn, stats: Stats, deadline: float) -> bool:
    """Follow a 202's Location; True once acknowledged, False when the host went away (re-POST)."""
    while time.monotonic() < deadline:
        try:
            response = http.get(url)
        except httpx.TransportError as exc:
            turn.seen.append("poll " + type(exc).__name__)
            with stats.lock:
                stats.transport_errors += 1
            return False
        turn.seen.append(f"poll {response.status_code}")
        stats.count(response.status_code, response.text)
        if response.status_code == 200:
            _acknowledge(turn, response.json(), stats)
            return True
        if response.status_code == 202:
            time.sleep(0.1)  # polling Location until the turn is done
            continue
        if response.status_code == 503:
            time.sleep(_retry_after(response))  # the client honours Retry-After: behaviour under test
            continue
        raise BatteryFailure(f"{turn.key}: Location answered {response.status_code}: {response.text[:500]}")
    return False


class Clients:
    """One thread per session, each running its turns in order; errors surface in :meth:`join`."""

    def __init__(self, base_url: str, stats: Stats, deadline: float) -> None:
        self.base_url = base_url
        self.stats = stats
        self.deadline = deadline
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def start(self, turns_by_session: Mapping[str, Sequence[PlannedTurn]]) -> Clients:
        for session, turns in turns_by_session.items():
            thread = threading.Thread(target=self._run, args=(list(turns),), name=f"client-{session}")
            thread.start()
            self.threads.append(thread)
        return self

    def _run(self, turns: list[PlannedTurn]) -> None:
        try:
            with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
                for turn in turns:
                    run_turn(http, self.base_url, turn, self.stats, self.deadline)
        except BaseException as exc:  # surfaced by join()
            self.errors.append(exc)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(max(0.0, self.deadline - time.monotonic()) + 5)
        if any(t.is_alive() for t in self.threads):
            raise BatteryFailure("a client did not finish before its deadline")
        if self.errors:
            raise self.errors[0]
