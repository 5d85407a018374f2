"""The kill battery: turns on a few sessions while the host is SIGKILLed or crashes at named points.

After every kill the store is checked while no host runs, the host restarts on the same store, and
the clients retry until acknowledged; then every conversation is checked against what they got.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from durableagent._faults import CRASH_ENV, CRASH_EXIT_CODE
from durableagent.testing.host import LocalHost, LocalHostError

from .checks import Reader, check_effects, check_session, read_probe
from .hosts import CRASH_POINTS, REQUEST_TIMEOUT, BatteryFailure, assert_store_healthy, battery_host
from .turns import Clients, Stats, TurnPlanner


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
                    # a random kill moment: the behaviour under test, not a wait for something
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
