"""When a route that waits through the public Durable client reads the entity's state again.

Why: on Azure a route can only learn that its turn committed by reading the entity's state
(``read_entity_state``), and every read is a storage transaction the user pays for. Reading often
answers soon after the commit; reading rarely saves money. A fixed backoff (0.05 s growing by 1.5x
to 1 s) answered a 3 s turn about 0.46 s after its commit, with 9 reads.

What this does instead: turns of one agent take similar times (the model's latency dominates), so
the process remembers how long recent operations of each ``(entity name, operation)`` took and
reads densely only around that time:

* two early reads (0.05 s and 0.15 s) catch operations that answer at once (a repeated request,
  ``get_state``, an instant model);
* with history, it then sleeps until just before the fastest recent duration (the 10th
  percentile), and reads every 50 ms, the pause growing by 15% per read, so a turn that takes
  longer than usual costs a few reads more, not a read every 50 ms; past the slowest recent
  duration the pause grows by 1.5x up to 1 s;
* without history (the first operations after a start), a growing pause from 50 ms, at most a
  tenth of the time waited so far (at least 0.25 s) and at most 1 s.

A duration is estimated from the read that answered (less half the pause before it, at most
25 ms). Nothing here reads anything: :class:`PollPlan` says how long to sleep before each read.
"""

from __future__ import annotations

import threading
from collections import deque

EARLY = (0.05, 0.1)
"""The pauses before the first two reads (reads at 0.05 s and 0.15 s)."""
LEAD = 0.1
"""Seconds before the fastest recent duration the dense reads start."""
DENSE = 0.05
"""The pause between reads around the expected duration."""
DENSE_GROWTH = 1.15
BACKOFF = 1.5
MAX_PAUSE = 1.0
HISTORY = 32
"""Recent durations kept per (entity name, operation)."""

_lock = threading.Lock()
_history: dict[tuple[str, str], deque[float]] = {}


def _quantiles(key: tuple[str, str]) -> tuple[float, float] | None:
    with _lock:
        recent = sorted(_history.get(key, ()))
    if len(recent) < 2:
        return None
    return recent[len(recent) // 10], recent[min(len(recent) - 1, (len(recent) * 9) // 10)]


def record(name: str, operation: str, seconds: float) -> None:
    """Remember that an operation of ``name`` took about ``seconds``."""
    key = (name.lower(), operation)
    with _lock:
        _history.setdefault(key, deque(maxlen=HISTORY)).append(seconds)


def forget() -> None:
    """Drop every remembered duration (tests)."""
    with _lock:
        _history.clear()


class PollPlan:
    """The pauses before each read of one wait for an operation of ``name``."""

    def __init__(self, name: str, operation: str) -> None:
        """Plan from the durations recently recorded for ``(name, operation)``."""
        self.name, self.operation = name, operation
        self._expected = _quantiles((name.lower(), operation))
        self._reads = 0
        self._pause = DENSE
        self._last_miss = 0.0

    def next_pause(self, elapsed: float) -> float:
        """Seconds to sleep before the next read, ``elapsed`` seconds after the signal."""
        if self._reads < len(EARLY):
            pause = EARLY[self._reads]
        elif self._expected is None:
            cap = min(MAX_PAUSE, max(0.25, elapsed / 10))
            pause = self._pause = min(cap, self._pause * BACKOFF)
        else:
            low, high = self._expected
            if elapsed < low - LEAD:
                pause = low - LEAD - elapsed
                self._pause = DENSE
            elif elapsed < high:
                pause = self._pause
                self._pause *= DENSE_GROWTH
            else:
                pause = self._pause = min(MAX_PAUSE, self._pause * BACKOFF)
        self._reads += 1
        return pause

    def missed(self, elapsed: float) -> None:
        """A read begun ``elapsed`` seconds after the signal did not answer."""
        self._last_miss = elapsed

    def answered(self, elapsed: float) -> None:
        """A read begun ``elapsed`` s after the signal answered: remember about how long it took.

        The operation ended between the last read that missed and this one; after a long pause
        (the early reads, then sleep) this read's time is the better estimate, so the estimate is
        this read's time less half the pause, at most :data:`DENSE` / 2.
        """
        record(self.name, self.operation, elapsed - min(elapsed - self._last_miss, DENSE) / 2)

    @property
    def reads(self) -> int:
        """Reads planned so far."""
        return self._reads
