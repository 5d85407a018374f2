#!/usr/bin/env python3
"""Measure two agents in ``context.task_all`` against one agent turn, each model call taking 1 s.

Usage: .venv/bin/python scripts/bench_orchestration.py [--trials N] [--delay-ms MS]

Starts the local host on samples/orchestration_concurrency with the offline model delayed by
``--delay-ms`` (default 1000), then, in the same run:

* baseline: one agent turn over HTTP (``POST /api/agents/PhysicistAgent/run``, waiting for the reply);
* orchestration: ``POST /api/concurrency/run`` (PhysicistAgent and ChemistAgent in ``task_all``),
  following its ``statusQueryGetUri`` every 10 ms until it completes.

Prints each trial's wall time, the medians, and the ratios to the model delay and to the baseline
(two concurrent agents should take about one model delay, not two).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from durableagent.testing.host import LocalHost

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "orchestration_concurrency"


def single_turn(http: httpx.Client, n: int) -> float:
    began = time.perf_counter()
    resp = http.post(
        "/api/agents/PhysicistAgent/run", json={"message": f"baseline {n}", "sessionId": f"b{n}"}
    )
    resp.raise_for_status()
    return time.perf_counter() - began


def orchestration(http: httpx.Client, n: int) -> float:
    began = time.perf_counter()
    resp = http.post("/api/concurrency/run", json={"prompt": f"question {n}"})
    resp.raise_for_status()
    url = resp.json()["statusQueryGetUri"]
    while True:
        doc = http.get(url).json()
        if doc["runtimeStatus"] == "Completed":
            return time.perf_counter() - began
        if doc["runtimeStatus"] in ("Failed", "Terminated"):
            raise SystemExit(f"orchestration {doc['instanceId']} ended {doc['runtimeStatus']}")
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--delay-ms", type=int, default=1000)
    args = parser.parse_args()
    delay = args.delay_ms / 1000.0
    store = Path(tempfile.mkdtemp(prefix="bench-orch-")) / "store.sqlite"
    env = {"DURABLEAGENT_OFFLINE_LATENCY_MS": str(args.delay_ms)}
    with (
        LocalHost(SAMPLE, store=store, env=env) as host,
        httpx.Client(base_url=host.base_url, timeout=60) as http,
    ):
        single_turn(http, 0)  # warm-up: imports, first entity, first transcript write
        orchestration(http, 0)
        base = [single_turn(http, n) for n in range(1, args.trials + 1)]
        both = [orchestration(http, n) for n in range(1, args.trials + 1)]
    print(f"model delay per call: {delay:.3f} s; trials: {args.trials}")
    print("one agent turn (HTTP, waits for the reply): " + ", ".join(f"{t:.3f}" for t in base) + " s")
    print("two agents in task_all (orchestration):     " + ", ".join(f"{t:.3f}" for t in both) + " s")
    b, o = statistics.median(base), statistics.median(both)
    print(f"median: one turn {b:.3f} s, two agents in task_all {o:.3f} s (max {max(both):.3f} s)")
    print(f"task_all / model delay = {o / delay:.2f}; task_all / one turn = {o / b:.2f}")
    print(f"under 1.5 x the model delay in every trial: {max(both) < 1.5 * delay}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
