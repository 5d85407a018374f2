"""The durability battery's machinery, shared by the pytest battery and ``scripts/battery``.

Why one module: the CI battery and the long runs must check the same invariants in the same way,
so the clients (turns with unique markers and ``Idempotency-Key``s, retried until acknowledged),
the killer (SIGKILL at random moments and at the named crash points) and the checks (the
conversation as ``GET`` shows it, the SQLite file, the in-host probes) live here once.

A turn is *acknowledged* when its ``POST /run`` answered 200, or 202 and its ``Location`` later
answered 200. Until then the client repeats the same request with the same key, across kills.
"""

from __future__ import annotations

import collections
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from durableagent._faults import CRASH_ENV, CRASH_EXIT_CODE
from durableagent.testing.host import LocalHost, LocalHostError

ROOT = Path(__file__).resolve().parents[2]
BATTERY_APP = ROOT / "tests" / "apps" / "battery_app"
KEYS_APP = ROOT / "tests" / "apps" / "battery_keys"
AGENT = "Battery"
CRASH_POINTS = (
    "turn.before_model",
    "turn.after_model",
    "turn.after_transcript",
    "host.entity.in_commit",
    "host.entity.after_commit",
    "host.signal.after_commit",
)
MARKER = re.compile(r"\bm-[A-Za-z0-9_]+-\d+\b")
REQUEST_TIMEOUT = 60.0


class BatteryFailure(AssertionError):
    """An invariant of the battery does not hold."""


def battery_env(workdir: Path) -> dict[str, str]:
    """Environment of a battery host: offline-model faults on, the probes' files under ``workdir``."""
    return {
        "DURABLEAGENT_OFFLINE_FAULTS": "1",
        "BATTERY_PROBE": str(workdir / "probe.log"),
        "BATTERY_EFFECTS": str(workdir / "effects.sqlite"),
        "BATTERY_FLAKY_DIR": str(workdir),
    }


def battery_host(workdir: Path, **options: Any) -> LocalHost:
    """A (not yet started) subprocess host of the battery app on a file store in ``workdir``."""
    env = {**battery_env(workdir), **options.pop("env", {})}
    return LocalHost(BATTERY_APP, store=workdir / "store.sqlite", env=env, **options)


def store_health(store: Path) -> tuple[str, str]:
    """``(PRAGMA integrity_check, PRAGMA journal_mode)`` of a store file, opened read-only."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    return str(check), str(mode).lower()


def assert_store_healthy(store: Path) -> None:
    health = store_health(store)
    if health != ("ok", "wal"):
        raise BatteryFailure(f"store {store} is not healthy: integrity/journal_mode = {health}")


# -- turns and their clients -----------------------------------------------------------------------


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
            time.sleep(0.05)
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
            time.sleep(_retry_after(response))
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
            time.sleep(0.1)
            continue
        if response.status_code == 503:
            time.sleep(_retry_after(response))
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


# -- checking a conversation ---------------------------------------------------------------------


def get_conversation(http: httpx.Client, base_url: str, session: str, **params: int) -> dict[str, Any]:
    response = http.get(f"{base_url}/api/agents/{AGENT}/{session}", params=params)
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
                        self._stop.wait(0.05)
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


# -- the kill battery --------------------------------------------------------------------------------


@dataclass
class KillPlan:
    """``random_kills`` SIGKILLs at random moments plus ``per_point`` kills at each crash point."""

    random_kills: int
    per_point: int = 1
    sessions: int = 3
    turns_per_session: int = 3
    kill_window: float = 0.8
    seed: int = 1
    deadline_per_iteration: float = 90.0

    def modes(self) -> list[str]:
        rng = random.Random(self.seed)
        modes = [p for p in CRASH_POINTS for _ in range(self.per_point)] + ["random"] * self.random_kills
        rng.shuffle(modes)
        return modes


@dataclass
class KillReport:
    stats: Stats
    reexecutions: int
    tool_reexecutions: int
    turns: int
    elapsed: float
    reads: int = 0  # GETs that saw the sessions while they changed (all committed prefixes)


def kill_battery(
    workdir: Path, plan: KillPlan, log: Callable[[str], None] | None = None, check_every: int = 1
) -> KillReport:
    """Run turns on ``plan.sessions`` sessions while the host is killed again and again.

    Every iteration: clients start their next turns; the host dies (SIGKILL after a random delay,
    or by itself at an armed crash point); the store is checked while no host runs; the host
    restarts on the same store; clients retry with the same keys until acknowledged; then every
    session's conversation is checked against what was acknowledged.
    """
    started = time.monotonic()
    rng = random.Random(plan.seed)
    planner = TurnPlanner(rng)
    stats = Stats()
    sessions = [f"k{plan.seed}s{i}" for i in range(plan.sessions)]
    modes = plan.modes()
    reads = 0
    host = battery_host(workdir)
    store = Path(host.store)
    _arm(host, modes[0], rng)
    if _start(host, stats, store):
        modes[0] = "random"
    try:
        with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
            for i, mode in enumerate(modes):
                deadline = time.monotonic() + plan.deadline_per_iteration
                batch = {s: [planner.next(s) for _ in range(plan.turns_per_session)] for s in sessions}
                clients = Clients(host.base_url, stats, deadline).start(batch)
                reader = Reader(host.base_url, planner, sessions, stats).start()
                if mode == "random":
                    time.sleep(rng.uniform(0, plan.kill_window))
                    if not host.running:
                        raise BatteryFailure(
                            f"the host died on its own (exit {host.returncode}):\n{host.output()}"
                        )
                    host.kill()
                else:
                    try:
                        code = host.wait_exit(max(1.0, deadline - time.monotonic()))
                    except Exception as exc:
                        raise BatteryFailure(f"crash point {mode} was not reached") from exc
                    if code != CRASH_EXIT_CODE:
                        raise BatteryFailure(f"host exited with {code} instead of crashing at {mode}")
                    stats.crash_point_kills[mode] += 1
                stats.kills += 1
                assert_store_healthy(store)
                _arm(host, "random", rng)
                _start(host, stats, store)
                try:
                    clients.join()
                finally:
                    reader.stop()
                reads += reader.reads
                if reader.violations:
                    raise BatteryFailure(reader.violations[0])
                if (i + 1) % check_every == 0 or i + 1 == len(modes):
                    for session in sessions:
                        check_session(http, host.base_url, session, planner.planned[session], stats)
                if i + 1 < len(modes) and modes[i + 1] != "random":
                    # arm the next crash point only now: a point armed earlier would fire while
                    # this iteration's clients are still retrying, with nobody left to restart the host
                    host.stop()
                    _arm(host, modes[i + 1], rng)
                    if _start(host, stats, store):
                        modes[i + 1] = "random"
                if log is not None:
                    log(f"kill {stats.kills}/{len(modes)} ({mode}): {stats.acked} turns acknowledged")
    finally:
        if host.running:
            host.stop()
    assert_store_healthy(store)
    probe = read_probe(workdir / "probe.log")
    if probe.max_per_session > 1:
        raise BatteryFailure(f"{probe.max_per_session} runs of one session overlapped")
    tool_turns = [t for turns in planner.planned.values() for t in turns if t.tool]
    tool_reexecutions = check_effects(workdir, tool_turns)
    reexecutions = sum(c - 1 for c in probe.runs.values() if c > 1)
    total = sum(len(t) for t in planner.planned.values())
    return KillReport(stats, reexecutions, tool_reexecutions, total, time.monotonic() - started, reads)


def _start(host: LocalHost, stats: Stats, store: Path) -> bool:
    """Start the host; True when an armed crash point already fired while it recovered.

    Recovery (redelivering the mailbox) runs before the host serves, so an armed point may fire
    then: that is a crash like any other. It is counted, the store checked, and the host started
    again disarmed (the caller then kills the next iteration at random instead).
    """
    try:
        host.start()
        return False
    except LocalHostError:
        if host.returncode != CRASH_EXIT_CODE or CRASH_ENV not in host.env:
            raise
    stats.kills += 1
    stats.crash_point_kills[host.env.pop(CRASH_ENV).split(":")[0] + " (in recovery)"] += 1
    assert_store_healthy(store)
    host.start()
    return True


def _arm(host: LocalHost, mode: str, rng: random.Random) -> None:
    """Set (crash point, N-th hit) for the next host process, or clear it for a random kill."""
    if mode == "random":
        host.env.pop(CRASH_ENV, None)
    else:
        host.env[CRASH_ENV] = f"{mode}:{rng.randint(1, 3)}"


# -- the soak ----------------------------------------------------------------------------------------


@dataclass
class SoakReport:
    seconds: float
    sessions: int
    stats: Stats
    turns: int
    gets: int
    samples: list[tuple[float, int, int, int]]  # (t, rss bytes, open fds, threads)
    warmup: float
    resets: int = 0

    def _median_rss(self, start: float, end: float) -> int:
        window = sorted(rss for t, rss, _, _ in self.samples if start <= t <= end)
        if not window:
            raise BatteryFailure(f"no RSS samples between {start:.0f}s and {end:.0f}s")
        return window[len(window) // 2]

    @property
    def rss_after_warmup(self) -> int:
        return self._median_rss(self.warmup, self.warmup + 10)

    @property
    def rss_at_end(self) -> int:
        return self._median_rss(self.seconds - 10, self.seconds + 5)

    @property
    def rss_growth(self) -> int:
        return self.rss_at_end - self.rss_after_warmup

    def timeline(self, step: float = 60.0) -> str:
        """RSS (MiB) every ``step`` seconds: does growth level off or keep going?"""
        marks, points = step, []
        for t, rss, _, _ in self.samples:
            if t >= marks:
                points.append(f"{rss / 2**20:.0f}")
                marks += step
        return ", ".join(points)

    def summary(self) -> str:
        first, last = self.samples[0], self.samples[-1]
        step = 60 if self.seconds > 120 else 10
        return (
            f"{self.sessions} sessions for {self.seconds:.0f}s: {self.turns} turns, {self.gets} GETs, "
            f"{self.resets} resets, "
            f"{self.stats.five_xx} 5xx; RSS {self.rss_after_warmup / 2**20:.1f} MiB after {self.warmup:.0f}s "
            f"warm-up -> {self.rss_at_end / 2**20:.1f} MiB ({self.rss_growth / 2**20:+.1f} MiB); "
            f"fds {first[2]} -> {last[2]}, threads {first[3]} -> {last[3]}; "
            f"RSS every {step}s: {self.timeline(step)} MiB"
        )


def soak(
    workdir: Path,
    *,
    sessions: int = 20,
    seconds: float = 60.0,
    warmup: float | None = None,
    seed: int = 5,
    get_ratio: float = 0.1,
    session_turns: int = 50,
) -> SoakReport:
    """``sessions`` clients run turns (and some GETs) for ``seconds`` while the host's RSS is sampled.

    Each client's session lives for ``session_turns`` turns: then it is checked, reset (DELETE,
    which must answer 200 and leave a 404) and replaced by a new one. Conversations therefore stay
    bounded, so RSS growth after the warm-up measures leaks, not the history cache of ever-longer
    conversations (``session_turns=0`` keeps every session for the whole run).
    """
    import psutil

    warmup = warmup if warmup is not None else min(60.0, seconds / 3)
    rng = random.Random(seed)
    planner = TurnPlanner(rng)
    stats = Stats()
    current = {i: f"soak{seed}s{i}g0" for i in range(sessions)}
    host = battery_host(workdir)
    host.start()
    process = psutil.Process(host.pid)
    samples: list[tuple[float, int, int, int]] = []
    gets = collections.Counter[str]()
    errors: list[BaseException] = []
    started = time.monotonic()
    end = started + seconds
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            with process.oneshot():
                rss, fds, threads = process.memory_info().rss, process.num_fds(), process.num_threads()
            samples.append((time.monotonic() - started, rss, fds, threads))
            stop.wait(1.0)

    def request(http: httpx.Client, method: str, session: str) -> httpx.Response:
        r = http.request(method, f"{host.base_url}/api/agents/{AGENT}/{session}")
        stats.count(r.status_code, r.text)
        gets[method] += 1
        return r

    def client(index: int) -> None:
        local = random.Random(seed * 1000 + index)
        generation = 0
        try:
            with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
                while time.monotonic() < end:
                    session = current[index]
                    planned = planner.planned[session]
                    if session_turns and len(planned) >= session_turns:
                        check_session(http, host.base_url, session, planned, stats)
                        reset = request(http, "DELETE", session)
                        if reset.status_code != 200 or request(http, "GET", session).status_code != 404:
                            raise BatteryFailure(
                                f"reset of {session}: {reset.status_code} {reset.text[:200]}"
                            )
                        generation += 1
                        current[index] = f"soak{seed}s{index}g{generation}"
                        continue
                    if planned and local.random() < get_ratio:
                        r = request(http, "GET", session)
                        if r.status_code != 200:
                            raise BatteryFailure(f"GET {session}: {r.status_code} {r.text[:300]}")
                        continue
                    with stats.lock:
                        turn = planner.next(session)
                    run_turn(http, host.base_url, turn, stats, end + 60)
        except BaseException as exc:
            errors.append(exc)

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(sessions)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 120)
        stop.set()
        sampler.join(5)
        if errors:
            raise errors[0]
        with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
            for session in current.values():
                check_session(http, host.base_url, session, planner.planned[session], stats)
    finally:
        stop.set()
        if host.running:
            host.stop()
    assert_store_healthy(Path(host.store))
    tool_turns = [t for turns in planner.planned.values() for t in turns if t.tool]
    check_effects(workdir, tool_turns)
    turns = sum(len(t) for t in planner.planned.values())
    return SoakReport(
        time.monotonic() - started, sessions, stats, turns, gets["GET"], samples, warmup, gets["DELETE"]
    )


# -- simultaneous runs on one session ----------------------------------------------------------------


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
        time.sleep(jitter[i])
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
