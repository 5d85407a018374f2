"""Wake-ups for readers of a stream log in this process: the in-process commit hook of appends.

Why: on the local host the entity that appends a turn's events and the route that tails them run in
one process but on different event loops (the agent loop, the host loop). A reader subscribes to a
key; every committed append calls :func:`notify`, which sets the reader's event on the reader's own
loop (``call_soon_threadsafe``). Nothing here ever waits on a reader: a slow or gone reader costs the
writer one ``call_soon_threadsafe`` per append. Readers in another process (an Azure instance that
does not run the turn) are not woken and poll the log with backoff instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from durableagent.conversation.stream_base import StreamKey

_lock = threading.Lock()
_waiters: dict[StreamKey, set[Waiter]] = {}


class Waiter:
    """One reader's wake-up: set by appends to its key, cleared by each :meth:`wait`."""

    __slots__ = ("_event", "_loop")

    def __init__(self) -> None:
        """Bind to the running loop (call from the reader's loop)."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Set the event from any thread."""
        try:
            self._loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # the reader's loop is closed: nobody to wake
            return

    async def wait(self, timeout: float) -> bool:
        """Wait for an append (True) or ``timeout`` seconds (False); re-arms the event."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            self._event.clear()


@contextlib.contextmanager
def subscribe(key: StreamKey) -> Iterator[Waiter]:
    """Be woken by appends to ``key`` while the block runs (subscribe before reading: no lost wake-up)."""
    waiter = Waiter()
    with _lock:
        _waiters.setdefault(key, set()).add(waiter)
    try:
        yield waiter
    finally:
        with _lock:
            group = _waiters.get(key)
            if group is not None:
                group.discard(waiter)
                if not group:
                    del _waiters[key]


def notify(key: StreamKey) -> None:
    """Wake every reader of ``key`` in this process (after the append committed)."""
    with _lock:
        group = tuple(_waiters.get(key, ()))
    for waiter in group:
        waiter.wake()
