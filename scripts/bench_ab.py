#!/usr/bin/env python3
"""A/B of one turn's cost: this checkout against an earlier commit, in one run, on one machine.

Usage: .venv/bin/python scripts/bench_ab.py [--baseline REV] [--turns N] [--rounds R]

For each side (the baseline commit, checked out into a temporary git worktree, and this working
tree) it starts ``durableagent serve samples/weather`` from that side's sources (``PYTHONPATH``
points at its ``src`` and ``generated``; both use this venv's packages) on a free loopback port
with a fresh SQLite store, warms up, then sends ``--turns`` sequential turns (ten a session, so the
figures are the request path's, not the growth of a long history, which ``scripts/bench``
measures apart) and as many ``GET /api/health`` requests over one keep-alive connection. It
prints, per side, the host's CPU per turn (from ``/proc/<pid>/stat``), turn p50, health p50 and
their ratio, alternating the sides for ``--rounds`` rounds so machine noise hits both; then the
ratios new / baseline of the medians.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _start(tree: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree / 'generated'}"}
    cmd = [sys.executable, "-m", "durableagent", "serve", str(tree / "samples" / "weather"),
           "--port", str(port), "--store", str(work / f"{tree.name}-{port}.sqlite"), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait on what we can observe: the health route answering
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.05)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"{tree}: the host did not start")


def measure(tree: Path, work: Path, turns: int) -> dict[str, float]:
    """One side's figures: CPU ms per turn, turn and health p50 (ms)."""
    proc, base = _start(tree, work)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            def body(i: int) -> dict[str, str]:  # 10 turns a session: the path, not the history's growth
                return {"message": "What is the weather in Paris?", "sessionId": f"ab-{i // 10}"}

            for i in range(20):
                client.post("/api/agents/WeatherAgent/run", json=body(i)).raise_for_status()
            health = []
            for _ in range(turns):
                t = time.perf_counter()
                client.get("/api/health").raise_for_status()
                health.append(time.perf_counter() - t)
            cpu0, latencies = _cpu_seconds(proc.pid), []
            for i in range(20, 20 + turns):
                t = time.perf_counter()
                client.post("/api/agents/WeatherAgent/run", json=body(i)).raise_for_status()
                latencies.append(time.perf_counter() - t)
            cpu = _cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(15)
    turn_p50, health_p50 = statistics.median(latencies) * 1e3, statistics.median(health) * 1e3
    return {"cpu_ms": cpu / turns * 1e3, "turn_p50": turn_p50, "health_p50": health_p50,
            "ratio": turn_p50 / health_p50}


def main() -> None:
    """Run both sides alternately and print the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", default="173098a", help="the commit to compare with")
    p.add_argument("--turns", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        old = work / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old), args.baseline],
                       check=True)
        try:
            sides: dict[str, list[dict[str, float]]] = {"baseline": [], "this tree": []}
            for _ in range(args.rounds):
                for name, tree in (("baseline", old), ("this tree", ROOT)):
                    sides[name].append(measure(tree, work, args.turns))
                    r = sides[name][-1]
                    print(f"{name:10} CPU {r['cpu_ms']:.2f} ms/turn  turn p50 {r['turn_p50']:.2f} ms  "
                          f"health p50 {r['health_p50']:.2f} ms  ratio {r['ratio']:.2f}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    med = {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for n, rs in sides.items()}
    print(f"\nmedians over {args.rounds} rounds of {args.turns} turns (baseline {args.baseline}):")
    for key, label in (("cpu_ms", "host CPU per turn (ms)"), ("turn_p50", "turn p50 (ms)"),
                       ("health_p50", "health p50 (ms)"), ("ratio", "turn p50 / health p50")):
        b, n = med["baseline"][key], med["this tree"][key]
        print(f"  {label:26} baseline {b:7.2f}   this tree {n:7.2f}   new/baseline {n / b:.2f}")


if __name__ == "__main__":
    main()
