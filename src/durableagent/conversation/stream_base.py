"""The stream log: the events of a streamed turn, kept so any instance can serve and resume them.

Why: a streamed reply must survive a dropped connection and a crash of the host, and be servable by
an instance other than the one running the agent. So the entity appends each event of a turn to a
log in the conversation store, keyed by ``(agent, session, request id)``, and the HTTP routes read
and tail that log; they never talk to the running turn.

Invariants:
* ``seq`` is the event id: ``1, 2, 3...`` per turn, never reused, gaps never created by a writer
  (one writer per turn: the session entity runs one operation at a time). ``append`` is an upsert by
  ``seq``, so an append retried after an unknown outcome does not duplicate.
* A turn's log is bounded (:data:`MAX_EVENTS`, :data:`MAX_EVENT_BYTES` per event; the writer
  enforces the total) and trimmed once its retention (``finish``) has passed.
* ``data`` is the event's JSON (an AG-UI event); ``terminal`` marks RUN_FINISHED / RUN_ERROR.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from durableagent.conversation.base import check_request

MAX_EVENTS = 20_000
"""Events one turn's log may hold (the writer stops adding deltas at this bound, see entity/turn_stream)."""
MAX_EVENT_BYTES = 30_000
"""Bytes of one event's JSON (under Azure Table's 64 KiB string property); longer deltas are split."""
DEFAULT_RETENTION_SECONDS = 600.0
"""How long a finished turn's log is kept (then a stream of it is rebuilt from the transcript)."""


@dataclass(frozen=True)
class StreamKey:
    """Which turn a log belongs to: the session and the request (correlation) id."""

    agent: str
    session: str
    request_id: str

    def __post_init__(self) -> None:
        """Raise ValueError unless the three parts are valid store keys."""
        check_request(self.agent, self.session, self.request_id)


@dataclass(frozen=True)
class StreamEntry:
    """One event of a turn's log."""

    seq: int  # the SSE event id, 1-based
    data: str  # the event's JSON
    terminal: bool = False  # RUN_FINISHED or RUN_ERROR: nothing follows


def expiry(retention_seconds: float) -> float:
    """The epoch time at which a log finished now may be trimmed."""
    return time.time() + retention_seconds


@runtime_checkable
class StreamLog(Protocol):
    """The stream logs of every turn. Every call that returned is durable (as the store's writes).

    ``any_loop``: whether ``read`` may be awaited on any event loop (SQLite and memory: their
    connections are guarded by locks). Otherwise (Azure Tables: the aio client belongs to the agent
    loop) callers run it on the agent loop, as every store call.
    """

    any_loop: bool

    async def append(self, key: StreamKey, entries: Sequence[StreamEntry]) -> None:
        """Upsert ``entries`` (in ``seq`` order) in one write."""
        ...

    async def read(self, key: StreamKey, after: int, limit: int) -> list[StreamEntry]:
        """Up to ``limit`` entries with ``seq > after``, in order."""
        ...

    async def last(self, key: StreamKey) -> StreamEntry | None:
        """The entry with the highest ``seq``, or None for an empty (or trimmed) log."""
        ...

    async def finish(self, key: StreamKey, retention_seconds: float) -> None:
        """Mark the turn's log finished: trim it after ``retention_seconds``; trim expired logs."""
        ...
