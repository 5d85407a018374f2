"""Measure the local host: startup, request round trips, signal commit latency, and two design choices.

Usage: ``python scripts/measure_local_host.py [APP_DIR]`` (default: tests/apps/plain_df).

Prints medians and p99s. The in-process sections compare the raw ASGI front door with an
equivalent Starlette route, and a durable (synchronous=FULL) commit run on the event loop with
the same commit run on the store thread while other requests wait.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(name: str, samples: list[float]) -> None:
    print(f"{name:<44} p50 {pct(samples, 0.5):7.3f} ms   p99 {pct(samples, 0.99):7.3f} ms   n={len(samples)}")


def start(app_dir: Path, store: str) -> tuple[subprocess.Popen[str], str, float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "durableagent", "serve", str(app_dir), "--port", "0", "--store", store],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    base = ""
    for line in proc.stdout:
        if line.startswith("Host started: "):
            base = line.split(": ", 1)[1].strip()
            break
    started = time.perf_counter() - t0
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port))
    conn.request("GET", "/api/hello")
    conn.getresponse().read()
    conn.close()
    return proc, base, started, time.perf_counter() - t0


def timed(conn: http.client.HTTPConnection, n: int, call: Callable[[], None]) -> list[float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    return samples


def over_http(app_dir: Path) -> None:
    starts, firsts = [], []
    for _ in range(5):
        proc, _, started, first = start(app_dir, ":memory:")
        starts.append(started)
        firsts.append(first)
        proc.terminate()
        proc.wait()
    print(f"startup to 'Host started' (median of 5)      {statistics.median(starts) * 1000:7.1f} ms")
    print(f"startup to first response (median of 5)      {statistics.median(firsts) * 1000:7.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "store.sqlite")
        proc, base, _, _ = start(app_dir, store)
        try:
            from durableagent.local.server import read_system_key

            key = read_system_key(store)
            host, port = base.removeprefix("http://").split(":")
            conn = http.client.HTTPConnection(host, int(port))

            def get(path: str) -> Callable[[], None]:
                def call() -> None:
                    conn.request("GET", path)
                    conn.getresponse().read()

                return call

            counter = iter(range(10**9))

            def signal() -> None:
                body = json.dumps(json.dumps(f"m{next(counter)}"))
                conn.request(
                    "POST",
                    f"/runtime/webhooks/durabletask/entities/Counter/bench?op=append&code={key}",
                    body=body,
                    headers={"content-type": "application/json"},
                )
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 202

            timed(conn, 50, get("/admin/host/ping"))
            report("GET /admin/host/ping (keep-alive)", timed(conn, 1000, get("/admin/host/ping")))
            report("GET /api/hello (sync function)", timed(conn, 1000, get("/api/hello")))
            report("GET /api/whoami (async function)", timed(conn, 1000, get("/api/whoami")))
            report("POST signal -> 202 (committed, sync=FULL)", timed(conn, 300, signal))
            conn.close()
        finally:
            proc.terminate()
            proc.wait()


async def front_door_overhead(app_dir: Path) -> None:
    """Per-request cost of the raw ASGI front door vs the same invocation behind a Starlette route."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from durableagent.local import http_io
    from durableagent.local.bootstrap import build_context, prepare_environment
    from durableagent.local.store import Store

    settings = prepare_environment(app_dir, None, ":memory:")
    store = Store(":memory:")
    ctx, front = build_context(
        settings=settings,
        store=store,
        public_base_url="http://127.0.0.1:7071",
        rpc_base_url="http://127.0.0.1:1/t/durabletask/",
        require_keys=False,
        max_body_bytes=1 << 20,
    )
    route = next(r for r in ctx.index.http if r.name == "whoami")
    plan = ctx.plans["whoami"]

    async def star(request: Request) -> Response:
        body = await request.body()
        datum = http_io.http_datum(
            request.method, str(request.url), dict(request.headers), dict(request.query_params), {}, body
        )
        status, headers, out = http_io.response_parts(await ctx.invoker.invoke(plan, {"req": datum}))
        return Response(out, status, {k.decode(): v.decode() for k, v in headers})

    starlette_app = Starlette(routes=[Route("/api/" + route.route, star, methods=["GET"])])

    async def run(app: Any, n: int) -> list[float]:
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/api/whoami",
            "raw_path": b"/api/whoami",
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:7071")],
            "server": ("127.0.0.1", 7071),
            "scheme": "http",
            "http_version": "1.1",
            "root_path": "",
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            return None

        samples = []
        for _ in range(n):
            t = time.perf_counter()
            await app(dict(scope), receive, send)
            samples.append(time.perf_counter() - t)
        return samples

    await run(front, 200)
    await run(starlette_app, 200)
    report("in-process: raw ASGI front door (async fn)", await run(front, 5000))
    report("in-process: Starlette route, same invoke", await run(starlette_app, 5000))
    ctx.invoker.shutdown()
    store.close()


async def commit_placement() -> None:
    """A durable commit on the event loop stalls every other request; on the store thread it does not."""
    from durableagent.local import entity_mailbox as mailbox
    from durableagent.local.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s.sqlite")
        conn = store._executor.submit(lambda: store._conn).result()
        assert conn is not None

        def commit() -> None:
            store._write(lambda c: mailbox.enqueue(c, "@counter@x", "add", "1", is_signal=True))

        async def ticker(stop: asyncio.Event, lags: list[float]) -> None:
            while not stop.is_set():
                t = time.perf_counter()
                await asyncio.sleep(0)
                lags.append(time.perf_counter() - t)

        for label, on_loop in (("on the loop", True), ("on the store thread", False)):
            stop, lags, commits = asyncio.Event(), [], []
            tick = asyncio.create_task(ticker(stop, lags))
            for _ in range(200):
                t = time.perf_counter()
                if on_loop:
                    store._executor.submit(commit).result()  # same thread-affine connection, loop blocked
                else:
                    await store.write(lambda c: mailbox.enqueue(c, "@counter@x", "add", "1", is_signal=True))
                commits.append(time.perf_counter() - t)
                await asyncio.sleep(0)
            stop.set()
            await tick
            report(f"durable commit {label}", commits)
            report(f"  event-loop lag while committing {label}", lags)
        store.close()


def main() -> None:
    app_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "apps" / "plain_df"
    over_http(app_dir)
    asyncio.run(front_door_overhead(app_dir))
    asyncio.run(commit_placement())


if __name__ == "__main__":
    main()
