"""The weather sample on the reference package ``agent-framework-azurefunctions`` (newest), run under
durableagent's local host with the same offline model: turn latency and growth next to ours.

Its HTTP handler signals the entity, then sleeps ``poll_interval_seconds`` (1 s) before each read
of the entity state, so a turn takes about one second whatever the work.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.client import RawClient
from bench.compare import venvs
from bench.hostproc import offline_env
from bench.load import KB_TEXT
from bench.stats import summary

NAME = "agent-framework-azurefunctions (reference package) under durableagent's local host"
ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().parent / "reference_app"
# The package, and what durableagent's local host (run from src/ in that venv) needs besides it:
# uvicorn with httptools and uvloop, as pinned in pyproject.toml.
PACKAGES = ["agent-framework-azurefunctions", "uvicorn>=0.34,<1", "httptools>=0.6,<1", "uvloop>=0.21,<1"]


def _turn(client: RawClient, session: str, message: str) -> float:
    body = json.dumps({"message": message, "session_id": session}).encode()
    started = time.perf_counter()
    status, _, data = client.request(
        "POST", "/api/agents/WeatherAgent/run", body, {"content-type": "application/json"}
    )
    elapsed = time.perf_counter() - started
    if status != 200 or b'"success"' not in data:
        raise RuntimeError(f"reference app answered {status}: {data[:200]!r}")
    return elapsed


def start_host(python: Path, store: Path) -> tuple[subprocess.Popen[str], int]:
    env = {**offline_env(), "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(python), "-m", "durableagent", "serve", str(APP), "--port", "0", "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Host started: "):
            return proc, int(line.rsplit(":", 1)[1])
        if time.monotonic() > deadline:
            break
    proc.kill()
    proc.wait()
    raise RuntimeError("the reference app did not start under the local host: " + "".join(lines[-5:]).strip())


def run(work: Path, *, quick: bool) -> dict[str, Any]:
    python = venvs.ensure("reference", PACKAGES)
    version = venvs.version_of(python, "agent-framework-azurefunctions")
    proc, port = start_host(python, work / "reference.sqlite")
    try:
        if proc.stdout is not None:  # keep the pipe drained
            import threading

            threading.Thread(target=proc.stdout.read, daemon=True).start()
        client = RawClient("127.0.0.1", port)
        _turn(client, "warm", "hello")
        seq = [_turn(client, f"seq{i % 5}", f"hello {i}") for i in range(10 if quick else 20)]
        growth_turns = 20 if quick else 60
        growth = [_turn(client, "grow", f"turn {i} {KB_TEXT}") for i in range(growth_turns)]
        client.close()
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    s = summary(seq)
    early = statistics.median(growth[4:15]) * 1000
    late = statistics.median(growth[-10:]) * 1000
    return {
        "name": NAME,
        "version": version,
        "turn": s,
        "growth": {"turns": growth_turns, "early_p50_ms": round(early, 1), "late_p50_ms": round(late, 1)},
        "rows": [
            ("package version", version),
            ("turn p50 / p95", f"{s['p50_ms']:.0f} / {s['p95_ms']:.0f} ms (n={s['n']})"),
            (f"growth: turns 5-15 vs {growth_turns - 9}-{growth_turns}", f"{early:.0f} -> {late:.0f} ms"),
            ("why ~1 s", "its route sleeps poll_interval_seconds=1.0 before each state read"),
        ],
    }


if __name__ == "__main__":  # python -m bench.compare.reference
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp), quick=bool(os.environ.get("QUICK"))), indent=2))
