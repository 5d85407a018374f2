"""Memory and threads of a server's processes (a process and its descendants), read from /proc,
and a sampler that keeps their peaks while a workload runs.

A server may be several processes (Restate: its server and the Python service; a host with worker
processes), so every figure sums the whole tree of each root pid.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from types import TracebackType


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree(roots: Iterable[int]) -> list[int]:
    """``roots`` and all their descendants that are alive now."""
    kids, seen, todo = _children(), [], list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen or not os.path.exists(f"/proc/{pid}"):
            continue
        seen.append(pid)
        todo.extend(kids.get(pid, []))
    return seen


def _status(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(roots: Iterable[int]) -> float:
    """Resident memory of the trees of ``roots`` now, in MiB (sum of VmRSS)."""
    return round(sum(_status(p, "VmRSS") for p in tree(roots)) / 1024, 1)


def peak_rss_mb(roots: Iterable[int]) -> float:
    """Sum over the trees of ``roots`` of each process's own peak resident memory (VmHWM), MiB."""
    return round(sum(_status(p, "VmHWM") for p in tree(roots)) / 1024, 1)


def threads(roots: Iterable[int]) -> int:
    """Threads of the trees of ``roots`` now."""
    return sum(_status(p, "Threads") for p in tree(roots))


def cpu_seconds(roots: Iterable[int]) -> float:
    """User + system CPU time the trees of ``roots`` have used so far (all threads), in seconds."""
    ticks = 0
    for pid in tree(roots):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


class Peaks:
    """``with Peaks(pids) as p:`` samples RSS and threads each ``interval`` s: ``p.rss_mb``, ``p.threads``."""

    def __init__(self, roots: Iterable[int], interval: float = 0.1) -> None:
        self.roots, self.interval = list(roots), interval
        self.rss_mb, self.threads = 0.0, 0
        self._pids: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        self.rss_mb = max(self.rss_mb, round(sum(_status(p, "VmRSS") for p in self._pids) / 1024, 1))
        self.threads = max(self.threads, sum(_status(p, "Threads") for p in self._pids))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Peaks:
        self._pids = tree(self.roots)  # listed once: /proc walks are slow, the tree does not change
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
