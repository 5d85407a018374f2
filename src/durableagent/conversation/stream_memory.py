"""A stream log in memory: for the memory conversation store and for stores without a log of their own.

Lost with the process, like the memory store's transcripts. Safe from any thread (one lock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from durableagent.conversation import stream_hub
from durableagent.conversation.stream_base import StreamEntry, StreamKey, expiry


class MemoryStreamLog:
    """Stream logs in a dict; finished logs are dropped once their retention passed."""

    any_loop = True

    def __init__(self) -> None:
        """An empty log."""
        self._lock = threading.Lock()
        self._logs: dict[StreamKey, dict[int, StreamEntry]] = {}
        self._expires: dict[StreamKey, float] = {}

    async def append(self, key: StreamKey, entries: Sequence[StreamEntry]) -> None:
        """Upsert the entries, then wake this process's readers."""
        with self._lock:
            log = self._logs.setdefault(key, {})
            for entry in entries:
                log[entry.seq] = entry
        stream_hub.notify(key)

    async def read(self, key: StreamKey, after: int, limit: int) -> list[StreamEntry]:
        """Entries after ``after``, in order, at most ``limit``."""
        with self._lock:
            log = self._logs.get(key, {})
            seqs = sorted(s for s in log if s > after)[:limit]
            return [log[s] for s in seqs]

    async def last(self, key: StreamKey) -> StreamEntry | None:
        """The newest entry, or None."""
        with self._lock:
            log = self._logs.get(key)
            return log[max(log)] if log else None

    async def finish(self, key: StreamKey, retention_seconds: float) -> None:
        """Keep the log ``retention_seconds`` more; drop the logs whose time passed."""
        now = time.time()
        with self._lock:
            self._expires[key] = expiry(retention_seconds)
            for gone in [k for k, at in self._expires.items() if at <= now]:
                self._expires.pop(gone, None)
                self._logs.pop(gone, None)
