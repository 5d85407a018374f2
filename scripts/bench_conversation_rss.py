"""Measure the host's memory under 16 concurrent whole-conversation GETs of a large session (issue 11.4).

Usage: .venv/bin/python scripts/bench_conversation_rss.py [--turns N] [--message-kib K] [--readers R]

Starts the weather sample on the local host (offline model, a temporary store), writes one session
of N turns whose messages are K KiB (the offline model echoes them, so each turn stores ~2K KiB),
then, R readers at a time, GETs the session:

* ``paged``: ``GET /api/agents/WeatherAgent/{id}`` as a client sends it today (the default page);
* ``whole``: ``?limit=1000``, which returns every turn of it, as the unpaged GET did before.

For each it prints the host's peak RSS above its resting RSS (``VmHWM`` after resetting it through
``/proc/PID/clear_refs``), the body size, and the ratio whole/paged, measured in the same run.
Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import tempfile
import uuid
from pathlib import Path

import httpx

from durableagent.testing.host import LocalHost

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "weather"


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _peak_during(pid: int, url: str, readers: int, rounds: int) -> tuple[float, float, int]:
    """(resting RSS MiB, peak RSS MiB above it, body bytes) while `readers` GET `url` `rounds` times."""
    resting = _status_kib(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    sizes: list[int] = []

    def read(_: int) -> int:
        total = 0
        for _ in range(rounds):  # a new connection each time (no keep-alive across a stalled loop)
            r = httpx.get(url, timeout=300)
            r.raise_for_status()
            total = len(r.content)
        return total

    with concurrent.futures.ThreadPoolExecutor(readers) as pool:
        sizes = list(pool.map(read, range(readers)))
    peak = _status_kib(pid, "VmHWM")
    return resting / 1024, (peak - resting) / 1024, sizes[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--message-kib", type=int, default=30)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="durableagent-rss-")) / "store.sqlite"
    with LocalHost(SAMPLE, store=store) as host:
        assert host.pid is not None
        session = uuid.uuid4().hex
        filler = "x" * (args.message_kib * 1024 - 16)
        with httpx.Client(timeout=120) as http:
            for n in range(args.turns):
                r = http.post(
                    host.url("/api/agents/WeatherAgent/run"),
                    json={"message": f"{n} {filler}", "sessionId": session},
                )
                r.raise_for_status()
        url = host.url(f"/api/agents/WeatherAgent/{session}")
        print(
            f"session: {args.turns} turns, messages of {args.message_kib} KiB;",
            f"{args.readers} concurrent readers",
        )
        rest_p, paged, paged_bytes = _peak_during(host.pid, url, args.readers, args.rounds)
        rest_w, whole, whole_bytes = _peak_during(host.pid, url + "?limit=1000", args.readers, args.rounds)
        print(f"{'GET':<8}{'body':>12}{'resting RSS':>14}{'peak above it':>16}")
        print(f"{'paged':<8}{paged_bytes / 2**20:>10.1f}MB{rest_p:>12.0f}MB{paged:>14.0f}MB")
        print(f"{'whole':<8}{whole_bytes / 2**20:>10.1f}MB{rest_w:>12.0f}MB{whole:>14.0f}MB")
        print(f"ratio whole/paged of the peak above resting: {whole / max(paged, 1.0):.1f}x")


if __name__ == "__main__":
    main()
