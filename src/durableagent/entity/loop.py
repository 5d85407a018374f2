"""One process-wide event loop for every agent call.

Why: the Durable SDK calls entity functions synchronously, on whatever worker thread the host
picks, while agents and their chat clients are async and keep loop-bound resources (HTTP
connection pools, credentials). Moving such a client between event loops breaks it, and a fresh
``asyncio.run`` per operation closes the pool the client holds. So every coroutine that touches an
agent (or a conversation store client) runs on this one loop, on its own daemon thread, for the
life of the process.

Invariant: there is exactly one agent loop per process; it is created lazily and never closed
while the process runs (``shutdown`` exists for tests and graceful exits).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _run_forever(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def agent_loop() -> asyncio.AbstractEventLoop:
    """The process-wide agent loop, started on first use."""
    global _loop, _thread
    loop = _loop
    if loop is not None and not loop.is_closed():
        return loop
    with _lock:
        if _loop is None or _loop.is_closed():
            new_loop = asyncio.new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=_run_forever, args=(new_loop, ready), name="durableagent-agent-loop", daemon=True
            )
            thread.start()
            ready.wait()
            _loop, _thread = new_loop, thread
        return _loop


def on_agent_loop() -> bool:
    """True when the caller is already running on the agent loop."""
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the agent loop and block the calling thread until it finishes.

    Must not be called from the agent loop itself (that would deadlock); entity functions run on
    worker threads, where this is exactly what is needed.
    """
    if on_agent_loop():
        coro.close()
        raise RuntimeError("run_sync() called from the agent loop; await the coroutine instead")
    future = asyncio.run_coroutine_threadsafe(coro, agent_loop())
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise


async def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` on the agent loop from any other event loop (e.g. an HTTP function's loop)."""
    if on_agent_loop():
        return await coro
    future = asyncio.run_coroutine_threadsafe(coro, agent_loop())
    return await asyncio.wrap_future(future)


def shutdown(timeout: float = 5.0) -> None:
    """Stop the agent loop (tests and graceful exits); a later :func:`agent_loop` starts a new one."""
    global _loop, _thread
    with _lock:
        loop, thread = _loop, _thread
        _loop, _thread = None, None
    if loop is None or loop.is_closed():
        return
    loop.call_soon_threadsafe(loop.stop)
    if thread is not None:
        thread.join(timeout)
    if not loop.is_running():
        loop.close()
