"""The Azure path: a route waiting on its turn by polling ``read_entity_state``, as on Azure.

The host runs with ``DURABLEAGENT_INPROCESS_RPC=0`` (no in-process commit feed: the app's durable
client calls the host's Durable HTTP API, signal then reads) and the offline model's latency knob.
Several clients, each on its own session, run sequential turns. From the host's bench trace:

* added latency: from the turn's commit (``C``) to its reply leaving the host (``R``): what the
  polling adds on top of the turn itself;
* reads per turn: the state reads the Durable HTTP API served (``S``) for the session, divided by
  its turns (each is a storage transaction on Azure).

The first turn of each client is a warm-up (the process has no recent durations yet) and is
reported apart as ``cold``.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bench import load
from bench.client import RawClient
from bench.stats import summary
from bench.trace import commit_to_reply

ENV = "DURABLEAGENT_INPROCESS_RPC"


def state_reads(path: Path, agent: str, session_prefix: str, offset: int = 0) -> Counter[str]:
    """Entity state reads per session (sessions starting with ``session_prefix``)."""
    prefix = f"@{agent.lower()}@{session_prefix}"
    reads: Counter[str] = Counter()
    with path.open("rb") as f:
        f.seek(offset)
        for raw in f:
            kind, _, subject = raw.decode().rstrip("\n").split(" ", 2)
            if kind == "S" and subject.startswith(prefix):
                reads[subject] += 1
    return reads


def _turns(port: int, clients: int, turns: int, prefix: str) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(c: int) -> None:
        conn = RawClient("127.0.0.1", port, timeout=120)
        try:
            for k in range(turns):
                load.turn(conn, f"{prefix}{c}", f"azure path {c} {k}")
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def measure(port: int, trace_file: Path, latency_ms: int, clients: int = 4, turns: int = 6) -> dict[str, Any]:
    """Cold turns (one per client), then ``turns`` more per client; added latency and reads per turn."""
    errors = _turns(port, clients, 1, "azc")
    offset = trace_file.stat().st_size
    errors += _turns(port, clients, turns, "azw")
    if errors:
        raise errors[0]
    cold = summary(commit_to_reply(trace_file, load.AGENT, "azc"))
    warm = summary(commit_to_reply(trace_file, load.AGENT, "azw", offset))
    cold_reads = state_reads(trace_file, load.AGENT, "azc")
    warm_reads = state_reads(trace_file, load.AGENT, "azw", offset)
    per_turn = [n / turns for n in warm_reads.values()]
    import os

    if os.environ.get("AZ_DEBUG"):
        import shutil

        shutil.copy(trace_file, os.environ["AZ_DEBUG"])
    return {
        "latency_ms": latency_ms,
        "clients": clients,
        "turns": clients * turns,
        "added": warm,
        "reads_per_turn": round(sum(per_turn) / max(1, len(per_turn)), 1),
        "reads_per_turn_max": round(max(per_turn, default=0.0), 1),
        "cold_added": cold,
        "cold_reads_per_turn": round(sum(cold_reads.values()) / max(1, clients), 1),
    }


def rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(name, value, note)`` rows of the printed table."""
    a, c = r["added"], r["cold_added"]
    return [
        (
            f"added reply latency, {r['latency_ms'] / 1000:g} s turn, p50 / p95",
            f"{a['p50_ms']:.0f} / {a['p95_ms']:.0f} ms",
            f"{r['turns']} turns, {r['clients']} clients",
        ),
        ("state reads per turn (mean / max)", f"{r['reads_per_turn']} / {r['reads_per_turn_max']}", ""),
        (
            "first turn after start (no history), p50",
            f"{c['p50_ms']:.0f} ms",
            f"{r['cold_reads_per_turn']} reads per turn",
        ),
    ]
