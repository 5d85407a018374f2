"""The soak: many clients run turns for a while as the host's RSS, fds and threads are sampled."""

from __future__ import annotations

import collections
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .checks import check_effects, check_session
from .hosts import AGENT, REQUEST_TIMEOUT, BatteryFailure, assert_store_healthy, battery_host
from .turns import Stats, TurnPlanner, run_turn


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
            stop.wait(1.0)  # the sampling interval

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
