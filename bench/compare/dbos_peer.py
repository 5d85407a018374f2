"""DBOS as a peer: ``dbos`` with its system database on SQLite, one workflow per turn (history read
and write as datasource transactions on a SQLite table, the model call as a step), served by
FastAPI on uvicorn as DBOS's own template does (peer_apps/dbos_service.py).

DBOS's template launches DBOS from the FastAPI lifespan and runs ``uvicorn.run(app, host, port)``
with uvicorn's defaults; the service does the same, async throughout (an app that waits seconds on
a model would be written async), with the history table on an ``aiosqlite`` datasource
(``dbos[aiosqlite]``). Asynchronous submits go through a queue partitioned by session with one
turn of a session running at a time, DBOS's way to keep a session's turns in order.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import machine, slow, suite
from bench.compare import servers, venvs
from bench.shapes import DBOS

NAME = "DBOS"
PACKAGES = ["dbos[aiosqlite]", "fastapi", "uvicorn"]
APPS = Path(__file__).resolve().parent / "peer_apps"
LATENCY_ENV = "DURABLEAGENT_OFFLINE_LATENCY_MS"


class Dbos:
    """A running DBOS service (see ``running``)."""

    def __init__(self, port: int, pids: list[int], startup_s: float) -> None:
        self.port, self.pids, self.startup_s = port, pids, startup_s


@contextmanager
def running(python: Path, work: Path, name: str, latency_ms: int = 0) -> Iterator[Dbos]:
    """Start the service on fresh SQLite files; stop it afterwards."""
    data = work / f"dbos-{name}"
    data.mkdir(parents=True)
    port = servers.free_port()
    env = {"DBOS_BENCH_DIR": str(data), "PORT": str(port), LATENCY_ENV: str(latency_ms)}
    log = data / "service.log"
    started = time.perf_counter()
    proc = servers.launch([str(python), "dbos_service.py"], log, cwd=APPS, env=env)
    try:
        servers.wait_ok(port, DBOS.health_path, proc, log)
        yield Dbos(port, [proc.pid], time.perf_counter() - started)
    finally:
        servers.stop(proc)


def run(work: Path, params: dict[str, int]) -> dict[str, Any]:
    """Install, then the standard suite and the slow-model workloads on DBOS."""
    python = venvs.ensure("dbos", PACKAGES)
    versions = {p: venvs.version_of(python, p) for p in ("dbos", "fastapi", "uvicorn", "aiosqlite")}
    load_before = machine.load1()
    startups = []
    for i in range(2):
        with running(python, work, f"start{i}") as peer:
            startups.append(peer.startup_s)
    with running(python, work, "main") as peer:
        startups.append(peer.startup_s)
        doc = suite.standard(peer.port, DBOS, peer.pids, params)
    starts = iter(range(2))

    @contextmanager
    def start_slow() -> Iterator[tuple[int, list[int]]]:
        with running(python, work, f"slow{next(starts)}", params["latency_ms"]) as peer:
            yield peer.port, peer.pids

    doc["slow"] = slow.standard(start_slow, DBOS, params)
    doc["load"] = {"before": load_before, "after": machine.load1()}
    doc["startup"] = {
        "median_s": round(statistics.median(startups), 3),
        "samples_s": [round(s, 3) for s in startups],
    }
    return {
        "name": NAME,
        "peer": "dbos",
        "version": f"dbos {versions['dbos']}",
        "versions": versions,
        "setup": "workflow per turn (history tx, model step, history tx), SQLite system db and table; "
        "FastAPI on uvicorn (1 process, defaults), async",
        **doc,
    }
