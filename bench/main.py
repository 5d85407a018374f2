"""``scripts/bench``: the benchmark suite (one run, medians and ratios, table + bench/results.json)."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import client, floors, hostproc, load, machine, report, trace
from bench.stats import ratio, summary
from durableagent.local import gc_tuning

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "weather"
GROWTH_EARLY = (4, 55)
"""Turns 5-55 (0-based indices 4..54); the late window is the same number of turns ending the session."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    p.add_argument(
        "--compare", action="store_true", help="also run the comparisons (installs into bench/.venvs)"
    )
    p.add_argument("--only-compare", action="store_true", help="run only the comparisons")
    p.add_argument("--quick", action="store_true", help="small counts: a smoke run, not numbers to quote")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    return p


def _params(quick: bool) -> dict[str, int]:
    if quick:
        return {"turns": 60, "sessions": 20, "growth": 600, "reads_at": 620, "stored": 300, "per_client": 10}
    return {"turns": 400, "sessions": 20, "growth": 600, "reads_at": 1000, "stored": 10_000, "per_client": 0}


def run_durableagent(params: dict[str, int], work: Path) -> dict[str, Any]:
    r: dict[str, Any] = {"params": params}
    own = client.overhead()
    r["client"] = {"kind": "raw socket, keep-alive, TCP_NODELAY", **summary(own)}
    startups = []
    for i in range(2):
        host, elapsed = hostproc.start(SAMPLE, work / f"start{i}.sqlite")
        startups.append(elapsed)
        host.stop()
    store, trace_file = work / "store.sqlite", work / "trace.log"
    host, elapsed = hostproc.start(SAMPLE, store, {"DURABLEAGENT_BENCH_TRACE": str(trace_file)})
    startups.append(elapsed)
    r["startup"] = {
        "median_s": round(statistics.median(startups), 3),
        "samples_s": [round(s, 3) for s in startups],
    }
    try:
        assert host.pid is not None
        port, rss_start = host.port, hostproc.rss_mb(host.pid)
        load.sequential(port, 60, params["sessions"], "warm")  # imports, caches, first sessions
        offset = trace.size(trace_file)
        turn_s, health_s = load.sequential(port, params["turns"], params["sessions"], "seq")
        r["turn"] = summary(turn_s)
        r["commit_to_reply"] = summary(trace.commit_to_reply(trace_file, load.AGENT, "seq", offset))
        r["throughput"] = {}
        for n, per_client in ((1, 400), (8, 60), (32, 16)):
            count = params["per_client"] or per_client
            load.concurrent(port, n, 3, f"w{n}-")  # connections and sessions warm
            cpu, wall = hostproc.cpu_seconds(host.pid), time.perf_counter()
            rate, lat = load.concurrent(port, n, count, f"c{n}-")
            cpu, wall = hostproc.cpu_seconds(host.pid) - cpu, time.perf_counter() - wall
            r["throughput"][str(n)] = {
                "turns_per_s": round(rate, 1),
                "turns": n * count,
                "host_cpu_ms_per_turn": round(cpu / (n * count) * 1e3, 2),
                "host_cpu_cores": round(cpu / wall, 2),
                **summary(lat),
            }
        early_s, late_s = load.growth(port, "grow", params["growth"], GROWTH_EARLY)
        load.long_session(port, "grow", params["reads_at"], start=params["growth"])
        whole, whole_size = load.reads(port, f"/api/agents/{load.AGENT}/grow", 10)
        page, page_size = load.reads(port, f"/api/agents/{load.AGENT}/grow?limit=20", 100)
        seconds = load.many_sessions(port, params["stored"], 32, "m")
        r["memory"] = {
            "sessions": floors.stored_sessions(store),
            "rss_mb": hostproc.rss_mb(host.pid),
            "rss_start_mb": rss_start,
            "create_seconds": round(seconds, 1),
        }
        state = floors.a_session_state(store, "seq")
    finally:
        host.stop()
    registration = floors.sample_agent(SAMPLE)
    if gc_tuning.enabled():
        gc_tuning.settle()  # the collector settings the host runs with, so the agent floor is comparable
    agent_s = floors.agent_run(registration, params["turns"], params["sessions"])
    a_early_s, a_late_s = floors.agent_run_growth(registration, params["growth"], GROWTH_EARLY)
    commit_s = floors.sqlite_commit(work, state)
    r["floors"] = {
        "health": summary(health_s),
        "agent_run": summary(agent_s),
        "sqlite_commit": {**summary(commit_s), "state_bytes": len(state)},
    }
    turn_p50 = r["turn"]["p50_ms"]
    r["ratios"] = {
        "turn_over_health": ratio(turn_p50, r["floors"]["health"]["p50_ms"]),
        "turn_over_agent": ratio(turn_p50, r["floors"]["agent_run"]["p50_ms"]),
        "turn_over_commit": ratio(turn_p50, r["floors"]["sqlite_commit"]["p50_ms"]),
    }
    early, late = summary(early_s), summary(late_s)
    a_early, a_late = summary(a_early_s), summary(a_late_s)
    r["growth"] = {
        "early_p50_ms": early["p50_ms"],
        "late_p50_ms": late["p50_ms"],
        "ratio": ratio(late["p50_ms"], early["p50_ms"]),
        "agent_early_p50_ms": a_early["p50_ms"],
        "agent_late_p50_ms": a_late["p50_ms"],
        "overhead_early_ms": round(early["p50_ms"] - a_early["p50_ms"], 3),
        "overhead_late_ms": round(late["p50_ms"] - a_late["p50_ms"], 3),
        "read_turns": params["reads_at"],
        "get_whole": summary(whole),
        "get_whole_bytes": whole_size,
        "get_page": summary(page),
        "get_page_bytes": page_size,
    }
    return r


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    params = _params(args.quick)
    results: dict[str, Any] = {"machine": machine.info(), "loadavg": {"before": machine.loadavg()}}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="durableagent-bench-") as tmp:
        if not args.only_compare:
            results.update(run_durableagent(params, Path(tmp)))
        if args.compare or args.only_compare:
            from bench.compare import run_all

            results["compare"] = run_all(Path(tmp), quick=args.quick)
    results["loadavg"]["after"] = machine.loadavg()
    results["seconds"] = round(time.time() - started, 1)
    if not args.only_compare:
        results["targets"] = [
            {"target": name, "measured": measured, "met": met}
            for name, measured, met in report.targets(results)
        ]
        print(report.render(results))
    else:
        for extra in results.get("compare", []):
            print(f"\nComparison: {extra['name']}")
            print(
                "\n".join(f"  {k:<46} {v:>24}" for k, v in extra.get("rows", []))
                or f"  skipped: {extra.get('skipped')}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out} ({results['seconds']} s)")
    return 0
