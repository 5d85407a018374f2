"""Slow models at scale: what users of real models care about most.

* ``in_flight``: N sessions, each with one turn in flight at once on a model that answers in
  seconds (the server runs with the offline model's latency knob). All requests are written first
  on N keep-alive connections, then one thread reads the answers as they come (a selector), so the
  client never limits the concurrency. Reported: wall time until all answered, how many answered
  with the right reply, the server's peak RSS and threads, and the server's CPU seconds (the
  floor of the wall time: a turn's own CPU times the sessions, over the cores the server uses).
* ``submit_collect``: many turns (several per session) submitted asynchronously (202), collected
  later by their keys: none may be lost (unknown to the server afterwards), and each reply must
  be the one its place in the session calls for ("offline reply #k"), which shows per-session
  order too. A turn still running at the deadline is ``pending``, not lost.
"""

from __future__ import annotations

import selectors
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from bench.client import RawClient
from bench.procs import Peaks, cpu_seconds
from bench.shapes import Shape, reply_text
from bench.stats import summary


def _right(body: bytes, message: str, nth: int) -> bool:
    try:
        text = reply_text(body)
    except ValueError:
        return False
    return f"'{message}'" in text and f"offline reply #{nth} in" in text


IN_FLIGHT_DEADLINE_S = 60
WARM_SESSIONS = 20
ASYNC_DEADLINE_S = 180


def in_flight(
    port: int, shape: Shape, roots: Sequence[int], sessions: int, prefix: str,
    deadline_s: float = IN_FLIGHT_DEADLINE_S,
) -> dict[str, Any]:  # fmt: skip
    """``sessions`` sessions, one turn each, all in flight at once; answers read until ``deadline_s``."""
    conns = [RawClient("127.0.0.1", port, timeout=120) for _ in range(sessions)]
    selector = selectors.DefaultSelector()
    done: dict[int, tuple[int, bytes, float]] = {}
    cpu = cpu_seconds(roots)
    with Peaks(roots) as peaks:
        started = time.perf_counter()
        for k, conn in enumerate(conns):
            conn.send(*shape.turn(f"{prefix}{k}", f"slow {k}"))
            selector.register(conn.sock, selectors.EVENT_READ, k)
        sent = time.perf_counter() - started
        deadline = started + deadline_s
        while len(done) < sessions and time.perf_counter() < deadline:
            for key, _ in selector.select(timeout=1.0):
                k = int(key.data)
                try:
                    status, _, body = conns[k].receive()
                except OSError:
                    status, body = 0, b""
                done[k] = (status, body, time.perf_counter() - started)
                selector.unregister(key.fileobj)
        wall = time.perf_counter() - started
    cpu = cpu_seconds(roots) - cpu
    selector.close()
    for conn in conns:
        conn.close()
    right = sum(1 for k, (status, body, _) in done.items() if status == 200 and _right(body, f"slow {k}", 1))
    statuses = Counter(str(status) for status, _, _ in done.values())
    return {
        "sessions": sessions,
        "answered": right,
        "failed": sessions - right,
        "statuses": dict(sorted(statuses.items())),
        "wall_s": round(wall, 2),
        "deadline_s": deadline_s,
        "send_s": round(sent, 2),
        "latency": summary([t for _, _, t in done.values()]),
        "peak_rss_mb": peaks.rss_mb,
        "peak_threads": peaks.threads,
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_turn": round(cpu / max(1, sessions) * 1e3, 2),
    }


def _split(items: int, workers: int) -> list[list[int]]:
    return [list(range(w, items, workers)) for w in range(workers)]


def _run(workers: int, target: Any) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(w: int) -> None:
        try:
            target(w)
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def submit_collect(
    port: int, shape: Shape, roots: Sequence[int], sessions: int, per_session: int, prefix: str,
    clients: int = 32, poll_s: float = 0.1, deadline_s: float = ASYNC_DEADLINE_S,
) -> dict[str, Any]:  # fmt: skip
    """``sessions * per_session`` turns submitted (each session's in order, from one client), then
    collected by key in each session's order, polling every ``poll_s``; nothing is sent after
    ``deadline_s``. Each accepted turn not collected by then is asked for once more: ``pending``
    if the server still knows it, ``lost`` if it answers 404."""
    shares = _split(sessions, clients)
    key = [[f"{prefix}-{s}-{k}" for k in range(per_session)] for s in range(sessions)]
    accepted: set[tuple[int, int]] = set()
    submit_lat: list[list[float]] = [[] for _ in range(clients)]
    collected: dict[tuple[int, int], float] = {}
    wrong: list[tuple[int, int, str]] = []
    late: Counter[str] = Counter()

    def submit(w: int) -> None:
        conn = RawClient("127.0.0.1", port)
        for k in range(per_session):
            for s in shares[w]:
                if time.perf_counter() > deadline:
                    break
                t = time.perf_counter()
                status, _, _ = conn.request(*shape.submit(f"{prefix}{s}", f"async {s} {k}", key[s][k]))
                submit_lat[w].append(time.perf_counter() - t)
                if status == 202:
                    accepted.add((s, k))
        conn.close()

    def take(conn: RawClient, s: int, k: int) -> int:
        status, _, body = conn.request(*shape.result(f"{prefix}{s}", key[s][k]))
        if status == 200:
            collected[(s, k)] = time.perf_counter() - started
            if not _right(body, f"async {s} {k}", k + 1):
                wrong.append((s, k, body[:160].decode("utf-8", "replace")))
        return status

    def collect(w: int) -> None:
        conn = RawClient("127.0.0.1", port)
        for s in shares[w]:
            for k in range(per_session):
                while (s, k) in accepted and time.perf_counter() < deadline and take(conn, s, k) != 200:
                    time.sleep(poll_s)
        for s in shares[w]:  # after the deadline: what became of the rest
            for k in range(per_session):
                if (s, k) in accepted and (s, k) not in collected:
                    status = take(conn, s, k)
                    late["collected" if status == 200 else "lost" if status == 404 else "pending"] += 1
        conn.close()

    with Peaks(roots) as peaks:
        started = time.perf_counter()
        deadline = started + deadline_s
        errors = _run(clients, submit)
        submitted_s = time.perf_counter() - started
        errors += _run(clients, collect)
        total_s = time.perf_counter() - started
    if errors:
        raise errors[0]
    count = sessions * per_session
    return {
        "turns": count,
        "sessions": sessions,
        "per_session": per_session,
        "accepted": len(accepted),
        "submit_s": round(submitted_s, 2),
        "submit": summary([x for xs in submit_lat for x in xs]),
        "deadline_s": deadline_s,
        "collected": len(collected),
        "collected_late": late["collected"],
        "pending": late["pending"],
        "lost": late["lost"],
        "wrong": len(wrong),
        "wrong_examples": [f"session {s} turn {k + 1}: {text}" for s, k, text in sorted(wrong)[:5]],
        "all_done_s": round(max(collected.values(), default=float("nan")), 2),
        "total_s": round(total_s, 2),
        "peak_rss_mb": peaks.rss_mb,
        "peak_threads": peaks.threads,
    }


Start = Callable[[], AbstractContextManager[tuple[int, list[int]]]]
"""Starts a fresh server with the slow model; yields ``(port, root pids)`` and stops it after."""


def standard(start: Start, shape: Shape, p: dict[str, int]) -> dict[str, Any]:
    """Both slow-model workloads, each on a fresh server (a turn left running by the first must
    not weigh on the second). The in-flight run follows a warm-up of :data:`WARM_SESSIONS` turns
    in flight (first-request imports and caches, as the sequential suite's warm-up does)."""
    with start() as (port, roots):
        in_flight(port, shape, roots, WARM_SESSIONS, "warm")
        fly = in_flight(port, shape, roots, p["in_flight"], "fly")
    with start() as (port, roots):
        sub = submit_collect(port, shape, roots, p["async_sessions"], p["async_turns"], "as")
    return {"latency_ms": p["latency_ms"], "in_flight": fly, "async": sub}
