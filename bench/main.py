"""``scripts/bench``: the benchmark suite (one run, medians and ratios, table + bench/results.json)."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import (
    azure_path,
    client,
    floors,
    hostproc,
    load,
    machine,
    procs,
    report,
    side_by_side,
    slow,
    suite,
    trace,
    windowing,
)
from bench.compare import NAMES
from bench.progress import note
from bench.shapes import DURABLEAGENT
from bench.stats import ratio, summary
from durableagent.local import gc_tuning
from durableagent.offline.model import LATENCY_ENV

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "weather"
GROWTH_EARLY = suite.GROWTH_EARLY
SECTIONS = ("standard", "slow", "azure-path")
AZURE_LATENCY_MS = 3000


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    p.add_argument(
        "--compare", action="store_true", help="also run the comparisons (installs into bench/.venvs)"
    )
    p.add_argument("--only-compare", action="store_true", help="run only the comparisons")
    p.add_argument(
        "--peers",
        default=",".join(NAMES),
        help=f"comma-separated comparisons to run with --compare (default: {','.join(NAMES)})",
    )
    p.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated sections of durableagent's own runs (default: {','.join(SECTIONS)})",
    )
    p.add_argument(
        "--only-window", action="store_true", help="run only the history-window growth bench (issue 14.2)"
    )
    p.add_argument("--quick", action="store_true", help="small counts: a smoke run, not numbers to quote")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    return p


def run_durableagent(params: dict[str, int], work: Path) -> dict[str, Any]:
    r: dict[str, Any] = {"params": params, "load": {"before": machine.load1()}}
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
        port, roots = host.port, [host.pid]
        rss_start = procs.rss_mb(roots)
        offset = trace.size(trace_file)
        turn_s, health_s = suite.sequential(port, DURABLEAGENT, params)
        r["turn"] = summary(turn_s)
        r["commit_to_reply"] = summary(trace.commit_to_reply(trace_file, load.AGENT, "seq", offset))
        r["throughput"] = suite.throughput(port, DURABLEAGENT, roots, params)
        _, early_s, late_s = suite.growth(port, DURABLEAGENT, params)
        load.long_session(port, "grow", params["reads_at"], start=params["growth"])
        whole, whole_size = load.reads(port, f"/api/agents/{load.AGENT}/grow?limit=1000", 10)
        page, page_size = load.reads(port, f"/api/agents/{load.AGENT}/grow?limit=20", 100)
        created = suite.stored(port, DURABLEAGENT, roots, params)
        r["memory"] = {
            "sessions": floors.stored_sessions(store),
            "rss_mb": created["rss_mb"],
            "rss_start_mb": rss_start,
            "create_seconds": created["create_seconds"],
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
    r["load"]["after"] = machine.load1()
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


def run_durableagent_slow(params: dict[str, int], work: Path) -> dict[str, Any]:
    """Slow models at scale on durableagent: the sample with the offline model's latency knob."""
    env = {LATENCY_ENV: str(params["latency_ms"])}
    starts = iter(range(2))

    @contextmanager
    def start() -> Iterator[tuple[int, list[int]]]:
        host, _ = hostproc.start(SAMPLE, work / f"slow{next(starts)}.sqlite", env)
        try:
            assert host.pid is not None
            yield host.port, [host.pid]
        finally:
            host.stop()

    return slow.standard(start, DURABLEAGENT, params)


def run_durableagent_azure(work: Path) -> dict[str, Any]:
    """The Azure path: no in-process commit feed, the route polls ``read_entity_state``; a 3 s model."""
    trace_file = work / "azure-trace.log"
    env = {
        azure_path.ENV: "0",
        LATENCY_ENV: str(AZURE_LATENCY_MS),
        "DURABLEAGENT_BENCH_TRACE": str(trace_file),
    }
    host, _ = hostproc.start(SAMPLE, work / "azure.sqlite", env)
    try:
        return azure_path.measure(host.port, trace_file, AZURE_LATENCY_MS)
    finally:
        host.stop()


def run_durableagent_again(params: dict[str, int], work: Path) -> dict[str, Any]:
    """Sequential turns and throughput once more after the peers, so the table brackets them
    (the machine's noise changes over a run; the issue's side-by-side runs were A, B, A)."""
    host, _ = hostproc.start(SAMPLE, work / "again.sqlite")
    load_before = machine.load1()
    try:
        assert host.pid is not None
        turn_s, health_s = suite.sequential(host.port, DURABLEAGENT, params)
        doc: dict[str, Any] = {"turn": summary(turn_s), "health": summary(health_s)}
        doc["throughput"] = suite.throughput(host.port, DURABLEAGENT, [host.pid], params)
    finally:
        host.stop()
    doc["turn_over_health"] = ratio(doc["turn"]["p50_ms"], doc["health"]["p50_ms"])
    doc["load"] = {"before": load_before, "after": machine.load1()}
    return doc


def _only_window(params: dict[str, int], out: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="durableagent-bench-") as tmp:
        window = windowing.run(params, Path(tmp))
    for name, agent in (("20-turn window", "window_20"), ("whole history", "whole")):
        w = window[agent]
        print(
            f"  {name:<16} turns 5-55 p50 {w['early_p50_ms']:.3f} ms, turns 550-600 p50"
            f" {w['late_p50_ms']:.3f} ms: {w['ratio']:.2f}x"
        )
    for target, measured, met in windowing.targets(window):
        print(f"  {target:<50} {measured:>8}  {'met' if met else 'NOT MET'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"window": window}, indent=2) + "\n")
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    params = suite.params(args.quick)
    results: dict[str, Any] = {"machine": machine.info(), "loadavg": {"before": machine.loadavg()}}
    started = time.time()
    if args.only_window:
        return _only_window(params, args.out)
    with tempfile.TemporaryDirectory(prefix="durableagent-bench-") as tmp:
        sections = set() if args.only_compare else {s.strip() for s in args.sections.split(",") if s.strip()}
        if unknown := sections - set(SECTIONS):
            raise SystemExit(f"scripts/bench: unknown section(s) {', '.join(sorted(unknown))}")
        if "standard" in sections:
            note("durableagent: standard suite")
            results.update(run_durableagent(params, Path(tmp)))
            note("durableagent: history windows")
            results["window"] = windowing.run(params, Path(tmp))
        if "slow" in sections:
            note("durableagent: slow model at scale")
            results["slow"] = run_durableagent_slow(params, Path(tmp))
        if "azure-path" in sections:
            note("durableagent: the Azure path (polling read_entity_state)")
            results["azure_path"] = run_durableagent_azure(Path(tmp))
        if args.compare or args.only_compare:
            from bench.compare import run_all

            only = frozenset(n.strip() for n in args.peers.split(",") if n.strip())
            results["compare"] = run_all(Path(tmp), params, quick=args.quick, only=only)
            if "standard" in sections and any(
                c.get("peer") and not c.get("skipped") for c in results["compare"]
            ):
                note("durableagent again: sequential turns and throughput, after the peers")
                results["durableagent_again"] = run_durableagent_again(params, Path(tmp))
    results["loadavg"]["after"] = machine.loadavg()
    results["seconds"] = round(time.time() - started, 1)
    if "standard" in sections:
        results["targets"] = [
            {"target": name, "measured": measured, "met": met}
            for name, measured, met in report.targets(results)
        ]
        print(report.render(results))
    elif sections:
        print(report.render_sections(results))
    else:
        for extra in results.get("compare", []):
            print(f"\nComparison: {extra['name']}")
            rows = extra.get("rows") or ([] if extra.get("skipped") else side_by_side.rows(extra))
            print("\n".join(f"  {k:<46} {v:>24}" for k, v in rows) or f"  skipped: {extra.get('skipped')}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out} ({results['seconds']} s)")
    return 0
