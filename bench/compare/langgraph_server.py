"""LangGraph's local server (``langgraph dev``, in-memory runtime) with a one-node graph on a
deterministic fake chat model: create thread + ``runs/wait`` latency, throughput with 8 and 32 clients.

The graph and config are bench/compare/langgraph_app/ (copied to a temporary directory to run, so
the server's files never land in the repository).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.client import RawClient
from bench.compare import venvs
from bench.stats import summary

NAME = "LangGraph local server (langgraph dev, in-memory runtime)"
APP = Path(__file__).resolve().parent / "langgraph_app"
PACKAGES = ["langgraph-cli[inmem]"]
JSON = {"content-type": "application/json"}


def _post(client: RawClient, path: str, doc: dict[str, Any]) -> dict[str, Any]:
    status, _, data = client.request("POST", path, json.dumps(doc).encode(), JSON)
    if status != 200:
        raise RuntimeError(f"POST {path} answered {status}: {data[:200]!r}")
    result: dict[str, Any] = json.loads(data)
    return result


def _turn(client: RawClient, thread: str, message: str) -> float:
    started = time.perf_counter()
    doc = _post(
        client,
        f"/threads/{thread}/runs/wait",
        {"assistant_id": "agent", "input": {"messages": [{"role": "user", "content": message}]}},
    )
    elapsed = time.perf_counter() - started
    if "offline reply" not in json.dumps(doc):
        raise RuntimeError(f"unexpected runs/wait answer: {str(doc)[:200]}")
    return elapsed


def _start(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    app = work / "langgraph_app"
    shutil.copytree(
        APP, app, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api")
    )
    cli = venvs.VENVS / "langgraph" / "bin" / "langgraph"
    port = _free_port()
    env = {**os.environ, "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    log = (work / "langgraph.log").open("wb")
    proc = subprocess.Popen(
        [str(cli), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)],
        cwd=app,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"langgraph dev exited with {proc.returncode}; see {work / 'langgraph.log'}")
        try:
            client = RawClient("127.0.0.1", port, timeout=5)
            status, _, _ = client.request("GET", "/ok")
            client.close()
            if status == 200:
                return proc, port
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("langgraph dev did not answer GET /ok within 90 s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _throughput(port: int, clients: int, turns_each: int) -> tuple[float, list[float]]:
    conns = [RawClient("127.0.0.1", port) for _ in range(clients)]
    threads_ids = [str(_post(c, "/threads", {})["thread_id"]) for c in conns]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def run(k: int) -> None:
        barrier.wait()
        try:
            for i in range(turns_each):
                latencies[k].append(_turn(conns[k], threads_ids[k], f"hello {i}"))
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    for c in conns:
        c.close()
    if errors:
        raise errors[0]
    return clients * turns_each / elapsed, [x for xs in latencies for x in xs]


def run(work: Path, *, quick: bool) -> dict[str, Any]:
    venvs.ensure("langgraph", PACKAGES)
    version = venvs.version_of(venvs.VENVS / "langgraph" / "bin" / "python", "langgraph-api")
    proc, port = _start(work)
    try:
        client = RawClient("127.0.0.1", port)
        _turn(client, str(_post(client, "/threads", {})["thread_id"]), "warm")
        create, turns = [], []
        for i in range(10 if quick else 20):
            started = time.perf_counter()
            thread = str(_post(client, "/threads", {})["thread_id"])
            create.append(time.perf_counter() - started)
            turns.append(_turn(client, thread, f"hello {i}"))
        client.close()
        rates = {n: _throughput(port, n, 3 if quick else 5) for n in (8, 32)}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    c, t = summary(create), summary(turns)
    return {
        "name": NAME,
        "version": version,
        "create_thread": c,
        "turn": t,
        "throughput": {str(n): {"turns_per_s": round(r, 1), **summary(lat)} for n, (r, lat) in rates.items()},
        "rows": [
            ("langgraph-api version", version),
            ("create thread p50", f"{c['p50_ms']:.1f} ms"),
            ("runs/wait p50 / p95", f"{t['p50_ms']:.0f} / {t['p95_ms']:.0f} ms (n={t['n']})"),
            *(
                (f"{n} clients", f"{r:.1f} turns/s (p50 {summary(lat)['p50_ms']:.0f} ms)")
                for n, (r, lat) in rates.items()
            ),
        ],
    }


if __name__ == "__main__":  # python -m bench.compare.langgraph_server
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp), quick=True), indent=2))
