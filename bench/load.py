"""The HTTP workloads: sequential turns (interleaved with health checks), concurrent clients,
one long session (growth), conversation reads, and many stored sessions.

Each turn workload takes a ``Shape`` (bench/shapes.py; durableagent's by default), so the peers in
``scripts/bench --compare`` run exactly these loads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bench.client import RawClient
from bench.shapes import DURABLEAGENT, JSON, Shape

AGENT = "WeatherAgent"
__all__ = ["AGENT", "JSON", "KB_TEXT", "Shape"]
KB_TEXT = ("lorem ipsum " * 90)[:1000]


class TurnFailed(RuntimeError):
    pass


def turn(client: RawClient, session: str, message: str, shape: Shape = DURABLEAGENT) -> bytes:
    method, path, body, headers = shape.turn(session, message)
    status, _, data = client.request(method, path, body, headers)
    if status != 200:
        raise TurnFailed(f"{method} {path} answered {status}: {data[:200]!r}")
    return data


def timed(call: Callable[[], object]) -> float:
    t = time.perf_counter()
    call()
    return time.perf_counter() - t


def sequential(
    port: int, turns: int, sessions: int, prefix: str, shape: Shape = DURABLEAGENT
) -> tuple[list[float], list[float]]:
    """``turns`` turns round-robin over ``sessions`` sessions, each preceded by a health check.

    Interleaving keeps the turn and its floor under the same machine noise. Returns (turn, health).
    """
    client = RawClient("127.0.0.1", port)
    turn_s, health_s = [], []
    for i in range(turns):
        health_s.append(timed(lambda: client.request("GET", shape.health_path)))
        turn_s.append(timed(lambda i=i: turn(client, f"{prefix}{i % sessions}", f"hello {i}", shape)))
    client.close()
    return turn_s, health_s


def concurrent(
    port: int, clients: int, turns_per_client: int, prefix: str, shape: Shape = DURABLEAGENT,
    budget_s: float | None = None,
) -> tuple[float, list[float]]:  # fmt: skip
    """``clients`` keep-alive clients on distinct sessions; returns (turns/s, latencies).

    Each client spreads its turns over its own sessions, ~8 turns each, so every concurrency level
    runs turns of the same history length (a long session would measure growth, not concurrency).
    With ``budget_s`` a client starts no turn after that many seconds (a slow server's rate is then
    that of the turns done; ``len(latencies)`` says how many).
    """
    per_session = max(1, turns_per_client // 8)
    conns = [RawClient("127.0.0.1", port) for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def run(k: int) -> None:
        barrier.wait()
        try:
            for i in range(turns_per_client):
                if budget_s is not None and time.perf_counter() - started > budget_s:
                    break
                session = f"{prefix}{k}-{i % per_session}"
                latencies[k].append(timed(lambda i=i, s=session: turn(conns[k], s, f"hello {i}", shape)))
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()  # for the clients' budget check until the barrier opens
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for conn in conns:
        conn.close()
    if errors:
        raise errors[0]
    done = [x for xs in latencies for x in xs]
    return len(done) / elapsed, done


def long_session(
    port: int, session: str, turns: int, start: int = 0, shape: Shape = DURABLEAGENT
) -> list[float]:
    """Turns ``start+1..turns`` of one session with ~1 KB messages; latency of each."""
    client = RawClient("127.0.0.1", port)
    samples = [
        timed(lambda i=i: turn(client, session, f"turn {i} {KB_TEXT}", shape)) for i in range(start, turns)
    ]
    client.close()
    return samples


def growth_plan(turns: int, early: tuple[int, int]) -> list[tuple[int, int, str]]:
    """The growth workload as ``(session, turn index, role)`` steps, session 0 long and session 1 fresh.

    Session 0 first runs its turns up to the late window (the last ``early[1] - early[0]`` of
    ``turns``), untimed (role ``""``); then the late window's turns alternate with turns 1..early[1]
    of session 1 (role ``"late"`` / ``"early"``; session 1's turns before ``early[0]`` are ``""``).
    Alternating puts both windows under the same machine noise, as the health floor is for turns.
    """
    span = early[1] - early[0]
    late_start = turns - span
    steps: list[tuple[int, int, str]] = [(0, i, "") for i in range(late_start)]
    for j in range(early[1]):
        steps.append((1, j, "early" if j >= early[0] else ""))
        if j >= early[0]:
            steps.append((0, late_start + j - early[0], "late"))
    return steps


def growth(
    port: int, session: str, turns: int, early: tuple[int, int], shape: Shape = DURABLEAGENT
) -> tuple[list[float], list[float]]:
    """Latency of turns ``early`` of a fresh session and of the last turns of a ``turns``-turn session
    (``session``), ~1 KB messages, measured alternately (see ``growth_plan``)."""
    client = RawClient("127.0.0.1", port)
    names = (session, f"{session}-fresh")
    samples: dict[str, list[float]] = {"early": [], "late": [], "": []}
    for k, i, role in growth_plan(turns, early):
        samples[role].append(timed(lambda k=k, i=i: turn(client, names[k], f"turn {i} {KB_TEXT}", shape)))
    client.close()
    return samples["early"], samples["late"]


def reads(port: int, path: str, n: int) -> tuple[list[float], int]:
    """``n`` GETs of ``path``; returns latencies and the body size."""
    client = RawClient("127.0.0.1", port)
    samples, size = [], 0
    for _ in range(n):
        t = time.perf_counter()
        status, _, data = client.request("GET", path)
        samples.append(time.perf_counter() - t)
        if status != 200:
            raise TurnFailed(f"GET {path} answered {status}")
        size = len(data)
    client.close()
    return samples, size


def many_sessions(
    port: int, count: int, clients: int, prefix: str, shape: Shape = DURABLEAGENT,
    budget_s: float | None = None,
) -> tuple[float, int]:  # fmt: skip
    """Create ``count`` sessions (one turn each) with ``clients`` concurrent clients, starting none
    after ``budget_s`` seconds; returns (seconds, sessions created)."""
    per_client = -(-count // clients)
    conns = [RawClient("127.0.0.1", port) for _ in range(clients)]
    errors: list[BaseException] = []
    created = [0] * clients

    def run(k: int) -> None:
        try:
            for i in range(k * per_client, min(count, (k + 1) * per_client)):
                if budget_s is not None and time.perf_counter() - started > budget_s:
                    break
                turn(conns[k], f"{prefix}{i}", f"hello {i}", shape)
                created[k] += 1
        except BaseException as exc:  # noqa: BLE001 - reported after the join
            errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for conn in conns:
        conn.close()
    if errors:
        raise errors[0]
    return time.perf_counter() - started, sum(created)
