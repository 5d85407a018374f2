#!/usr/bin/env python3
"""Measure streamed turns on the local host: chunk-to-client latency, 100 streams, a slow reader.

Usage: .venv/bin/python scripts/bench_streaming.py [--quick]

Starts the local host on tests/apps/stream_bench_app, whose model streams chunks stamped with the
wall-clock time they were emitted (same machine, so the client subtracts it from its own clock).
Prints:

1. latency: p50/p90/p99 from the model yielding a chunk to this client parsing its SSE event
   (sequential turns, 50 chunks 10 ms apart), next to the p50 of a ``GET /api/health`` round trip
   measured in the same run (the floor of any HTTP exchange here);
2. 100 concurrent streams (100 chunks 20 ms apart each): how many finished, the largest gap
   between two events of one stream (a stream counts as stalled above 1 s), the wall time;
3. a slow reader: a 4,000-chunk turn whose client reads nothing until the turn has committed (the
   same request sent again as JSON with its Idempotency-Key waits for the commit), next to 10
   ordinary streams. The big turn's time to commit and the others' latency p50, each as a ratio
   to the same round with the big turn's client reading normally.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from durableagent.testing.host import LocalHost  # noqa: E402

APP = ROOT / "tests" / "apps" / "stream_bench_app"
SSE = {"Accept": "text/event-stream"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def stream_turn(
    client: httpx.AsyncClient, message: str, *, pause_until_committed: bool = False
) -> tuple[list[float], list[float], str]:
    """(chunk latencies ms, arrival times s, correlation id) of one streamed turn."""
    body = {"message": message, "sessionId": "b-" + uuid.uuid4().hex[:16]}
    latencies: list[float] = []
    arrivals: list[float] = []
    async with client.stream("POST", "/agents/Bench/run", json=body, headers=SSE) as response:
        cid = response.headers["x-ms-correlation-id"]
        if pause_until_committed:  # read nothing; the same request as JSON waits for the committed reply
            waited = await client.post("/agents/Bench/run", json=body, headers={"Idempotency-Key": cid})
            assert waited.status_code == 200, waited.text
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            now = time.time_ns()
            arrivals.append(time.perf_counter())
            event = json.loads(line[6:])
            if event["type"] == "TEXT_MESSAGE_CONTENT" and not pause_until_committed:
                latencies.append((now - int(event["delta"])) / 1e6)
            if event["type"] in ("RUN_FINISHED", "RUN_ERROR"):
                break
    return latencies, arrivals, cid


async def latency(client: httpx.AsyncClient, turns: int) -> None:
    health = []
    for _ in range(50):
        started = time.perf_counter()
        await client.get("/health")
        health.append((time.perf_counter() - started) * 1000)
    values: list[float] = []
    for _ in range(turns):
        values.extend((await stream_turn(client, "chunks=50"))[0])
    print(f"1. chunk-to-client latency over {len(values)} chunks ({turns} turns):")
    print(f"   p50 {pct(values, 50):.2f} ms   p90 {pct(values, 90):.2f} ms   p99 {pct(values, 99):.2f} ms")
    print(
        f"   baseline GET /health round trip p50 {statistics.median(health):.2f} ms "
        f"(latency p50 / baseline = {pct(values, 50) / statistics.median(health):.2f})"
    )


async def concurrent(client: httpx.AsyncClient, streams: int) -> None:
    started = time.perf_counter()
    results = await asyncio.gather(
        *(stream_turn(client, "chunks=100 delay_ms=20") for _ in range(streams)), return_exceptions=True
    )
    wall = time.perf_counter() - started
    done = [r for r in results if not isinstance(r, BaseException)]
    gaps = [max(b - a for a, b in zip(r[1], r[1][1:], strict=False)) for r in done]
    stalled = sum(g > 1.0 for g in gaps) + (streams - len(done))
    print(f"2. {streams} concurrent streams (100 chunks, 20 ms apart: 2 s of model time each):")
    print(
        f"   finished {len(done)}/{streams}, stalled {stalled}; largest gap between two events of a "
        f"stream: p50 {statistics.median(gaps) * 1000:.0f} ms, max {max(gaps) * 1000:.0f} ms; "
        f"wall {wall:.2f} s"
    )


async def slow_reader_round(client: httpx.AsyncClient, pause: bool) -> tuple[float, float]:
    """(seconds until the big turn committed, the 10 other streams' latency p50 ms)."""
    started = time.perf_counter()
    committed: list[float] = []
    body = {"message": "chunks=4000 delay_ms=0", "sessionId": "big-" + uuid.uuid4().hex[:12]}

    async def big() -> None:
        async with client.stream("POST", "/agents/Bench/run", json=body, headers=SSE) as response:
            cid = response.headers["x-ms-correlation-id"]
            # the same request as JSON waits for the committed reply: the entity's end, not the reader's
            waited = await client.post("/agents/Bench/run", json=body, headers={"Idempotency-Key": cid})
            assert waited.status_code == 200, waited.text
            committed.append(time.perf_counter() - started)
            if not pause:
                return
            async for _ in response.aiter_lines():  # only now does the paused client read
                pass

    async def big_normal() -> None:
        async with client.stream("POST", "/agents/Bench/run", json=body, headers=SSE) as response:
            cid = response.headers["x-ms-correlation-id"]

            async def wait_commit() -> None:
                await client.post("/agents/Bench/run", json=body, headers={"Idempotency-Key": cid})
                committed.append(time.perf_counter() - started)

            waiter = asyncio.ensure_future(wait_commit())
            async for _ in response.aiter_lines():
                pass
            await waiter

    others = [stream_turn(client, "chunks=50") for _ in range(10)]
    results = await asyncio.gather(big() if pause else big_normal(), *others)
    lat = [v for r in results[1:] for v in r[0]]  # type: ignore[index]
    return committed[0], statistics.median(lat)


async def slow_reader(client: httpx.AsyncClient) -> None:
    normal_big, normal_p50 = await slow_reader_round(client, pause=False)
    slow_big, slow_p50 = await slow_reader_round(client, pause=True)
    print("3. a slow reader (a 4,000-event turn whose client reads nothing until the turn committed):")
    print(
        f"   big turn committed after {normal_big:.2f} s with a normal reader, {slow_big:.2f} s with the "
        f"paused one (ratio {slow_big / normal_big:.2f})"
    )
    print(
        f"   10 other streams' latency p50: {normal_p50:.2f} ms beside a normal reader, "
        f"{slow_p50:.2f} ms beside the paused one (ratio {slow_p50 / normal_p50:.2f})"
    )


async def run(host: LocalHost, quick: bool) -> None:
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(base_url=host.url("/api"), timeout=120, limits=limits) as client:
        await stream_turn(client, "chunks=5")  # warm up
        await latency(client, 5 if quick else 20)
        await concurrent(client, 20 if quick else 100)
        await slow_reader(client)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer turns and streams")
    args = parser.parse_args()
    env = {"STREAM_BENCH_DELAY_MS": "10"}
    with tempfile.TemporaryDirectory() as tmp:
        host = LocalHost(APP, store=Path(tmp) / "store.sqlite", env=env)
        host.start()
        try:
            asyncio.run(run(host, args.quick))
        finally:
            host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
