"""In-process notifications of committed entity state.

Why: an HTTP function that signalled an entity needs the operation's result. The public client
API only offers ``read_entity_state``, so a waiter on Azure has to poll. A host that runs the app in
its own process (durableagent's local host) knows the exact moment a batch's state is durable and
publishes it here, so waiters wake at once instead of sleeping between polls.

Invariant: :func:`publish` is called only after the state is committed (what a reader would get
from ``read_entity_state``), so a subscriber never sees state that a crash could take back.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_subscribers: dict[str, set[Subscription]] = {}
_publishers: set[str] = set()


def entity_key(name: str, key: str) -> str:
    """The canonical ``@name@key`` form (entity names are case-insensitive, keys are not)."""
    return f"@{name.lower()}@{key}"


class Subscription:
    """Committed states of one entity, delivered to one waiter on its own event loop."""

    def __init__(self, entity: str, loop: asyncio.AbstractEventLoop) -> None:
        self.entity = entity
        self._loop = loop
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()

    def _deliver(self, state: str | None) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:  # published on the waiter's own loop: no cross-thread wakeup needed
            self._queue.put_nowait(state)
        else:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, state)

    async def next(self, timeout: float) -> tuple[bool, str | None]:
        """Wait up to ``timeout`` seconds; ``(True, state)`` on a commit, ``(False, None)`` on timeout."""
        try:
            state = await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            return False, None
        return True, state


@contextmanager
def subscribe(entity: str) -> Iterator[Subscription]:
    """Receive every state committed for ``entity`` (``@name@key``) while the block runs."""
    sub = Subscription(entity, asyncio.get_running_loop())
    with _lock:
        _subscribers.setdefault(entity, set()).add(sub)
    try:
        yield sub
    finally:
        with _lock:
            subs = _subscribers.get(entity)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del _subscribers[entity]


def publish(entity: str, state: str | None) -> None:
    """Announce that ``entity``'s state ``state`` (JSON text, None when deleted) is committed.

    Thread-safe and cheap when nobody listens.
    """
    with _lock:
        subs = _subscribers.get(entity)
        targets = tuple(subs) if subs else ()
    for sub in targets:
        try:
            sub._deliver(state)
        except RuntimeError:  # the subscriber's loop is closed; it can no longer wait
            continue


def register_publisher(name: str) -> None:
    """Declare that a host in this process publishes its commits (waiters then need no polling)."""
    with _lock:
        _publishers.add(name)


def unregister_publisher(name: str) -> None:
    with _lock:
        _publishers.discard(name)


def has_publisher() -> bool:
    with _lock:
        return bool(_publishers)
