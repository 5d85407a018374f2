#!/usr/bin/env python3
"""What the HTTP streams model (AgentFunctionApp(http_streaming=True)) costs per request, locally.

Usage: scripts/bench_http_models.py [--requests N]

Starts samples/weather twice on the local host (subprocesses, file stores): classic routes and the
FastAPI-typed routes (PYTHON_ENABLE_INIT_INDEXING=1). Sends the same requests to both, interleaved
so both see the same machine load, and prints the median and p90 latency of each kind and the
ratio FastAPI / classic (the classic host is the baseline of the same run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402

from durableagent.testing.host import LocalHost  # noqa: E402

SAMPLE = ROOT / "samples" / "weather"
KINDS = {
    "GET /health": lambda api, i: api.get("/api/health"),
    "POST /run (new session)": lambda api, i: api.post(
        "/api/agents/WeatherAgent/run", json={"message": "weather in Oslo?", "sessionId": f"b{i}"}
    ),
    "GET /{session}": lambda api, i: api.get(f"/api/agents/WeatherAgent/b{i}"),
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-models-"))
    hosts = {
        model: LocalHost(SAMPLE, store=tmp / f"{model}.sqlite", env={"PYTHON_ENABLE_INIT_INDEXING": flag})
        for model, flag in (("classic", "0"), ("fastapi", "1"))
    }
    for host in hosts.values():
        host.start()
    try:
        clients = {m: httpx.Client(base_url=h.base_url, timeout=30) for m, h in hosts.items()}
        times: dict[tuple[str, str], list[float]] = {}
        for kind, call in KINDS.items():
            for i in range(-20, args.requests):  # 20 warm-up requests, not counted
                for model, api in clients.items():
                    started = time.perf_counter()
                    resp = call(api, i)
                    elapsed = (time.perf_counter() - started) * 1000
                    assert resp.status_code < 300, (model, kind, resp.status_code, resp.text)
                    if i >= 0:
                        times.setdefault((kind, model), []).append(elapsed)
        print(f"{'request':28} {'classic p50/p90 ms':>20} {'fastapi p50/p90 ms':>20} {'ratio p50':>10}")
        for kind in KINDS:
            c, f = times[(kind, "classic")], times[(kind, "fastapi")]
            cm, fm = statistics.median(c), statistics.median(f)
            print(
                f"{kind:28} {cm:9.2f} / {_pct(c, 0.9):7.2f} {fm:10.2f} / {_pct(f, 0.9):7.2f} {fm / cm:10.2f}"
            )
        for api in clients.values():
            api.close()
    finally:
        for host in hosts.values():
            host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
