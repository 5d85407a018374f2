"""The measurements every server gets, durableagent and its peers alike: sequential turns with their
health floor, throughput at 1/8/32 clients, growth of one long session, many stored sessions.

Each step takes the server's port, its HTTP ``Shape`` and the root pids of its processes (for CPU
and memory), so the numbers side by side come from the same code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from bench import load, procs
from bench.shapes import Shape
from bench.stats import ratio, summary

GROWTH_EARLY = (4, 55)
"""Turns 5-55 (0-based indices 4..54); the late window is the same number of turns ending the session."""
CLIENTS = ((1, 400), (8, 60), (32, 16))
"""``(clients, turns per client)`` of the throughput runs (``params["per_client"]`` overrides)."""
THROUGHPUT_BUDGET_S = 60
"""No client starts a turn after this many seconds of a throughput run (bounds a slow server)."""
STORED_BUDGET_S = 120
"""No session is created after this many seconds of the stored-sessions run."""


def params(quick: bool) -> dict[str, int]:
    """Workload sizes; ``quick`` is a smoke run, not numbers to quote."""
    if quick:
        return {
            "turns": 60, "sessions": 20, "growth": 600, "reads_at": 620, "stored": 300, "per_client": 10,
            "in_flight": 100, "async_sessions": 100, "async_turns": 5, "latency_ms": 2000,
        }  # fmt: skip
    return {
        "turns": 400, "sessions": 20, "growth": 600, "reads_at": 1000, "stored": 10_000, "per_client": 0,
        "in_flight": 1000, "async_sessions": 1000, "async_turns": 10, "latency_ms": 2000,
    }  # fmt: skip


def sequential(port: int, shape: Shape, p: dict[str, int]) -> tuple[list[float], list[float]]:
    """Warm-up, then ``turns`` sequential turns interleaved with health checks: (turn, health) seconds."""
    load.sequential(port, 60, p["sessions"], "warm", shape)  # imports, caches, first sessions
    return load.sequential(port, p["turns"], p["sessions"], "seq", shape)


def throughput(port: int, shape: Shape, roots: Sequence[int], p: dict[str, int]) -> dict[str, Any]:
    """Turns/s, latency and server CPU at 1, 8 and 32 concurrent clients (distinct sessions)."""
    out: dict[str, Any] = {}
    for n, per_client in CLIENTS:
        count = p["per_client"] or per_client
        load.concurrent(port, n, 3, f"w{n}-", shape)  # connections and sessions warm
        cpu, wall = procs.cpu_seconds(roots), time.perf_counter()
        rate, lat = load.concurrent(port, n, count, f"c{n}-", shape, THROUGHPUT_BUDGET_S)
        cpu, wall = procs.cpu_seconds(roots) - cpu, time.perf_counter() - wall
        out[str(n)] = {
            "turns_per_s": round(rate, 1),
            "turns": len(lat),
            "host_cpu_ms_per_turn": round(cpu / max(1, len(lat)) * 1e3, 2),
            "host_cpu_cores": round(cpu / wall, 2),
            **summary(lat),
        }
    return out


def growth(port: int, shape: Shape, p: dict[str, int]) -> tuple[dict[str, Any], list[float], list[float]]:
    """Turns 5-55 of a fresh session against the last 51 of a ``growth``-turn one (~1 KB messages)."""
    early_s, late_s = load.growth(port, "grow", p["growth"], GROWTH_EARLY, shape)
    early, late = summary(early_s), summary(late_s)
    doc = {
        "turns": p["growth"],
        "early_p50_ms": early["p50_ms"],
        "late_p50_ms": late["p50_ms"],
        "ratio": ratio(late["p50_ms"], early["p50_ms"]),
    }
    return doc, early_s, late_s


def stored(port: int, shape: Shape, roots: Sequence[int], p: dict[str, int]) -> dict[str, Any]:
    """Create ``stored`` one-turn sessions with 32 clients (within ``STORED_BUDGET_S``); memory after."""
    seconds, created = load.many_sessions(port, p["stored"], 32, "m", shape, STORED_BUDGET_S)
    return {"created": created, "create_seconds": round(seconds, 1), "rss_mb": procs.rss_mb(roots)}


def standard(port: int, shape: Shape, roots: Sequence[int], p: dict[str, int]) -> dict[str, Any]:
    """The whole standard suite on a running server (what the peers report next to durableagent)."""
    rss_start = procs.rss_mb(roots)
    turn_s, health_s = sequential(port, shape, p)
    doc: dict[str, Any] = {"turn": summary(turn_s), "health": summary(health_s)}
    doc["turn_over_health"] = ratio(doc["turn"]["p50_ms"], doc["health"]["p50_ms"])
    doc["throughput"] = throughput(port, shape, roots, p)
    doc["growth"] = growth(port, shape, p)[0]
    doc["memory"] = {**stored(port, shape, roots, p), "rss_start_mb": rss_start}
    return doc
