"""Blocking on the agent loop from a test's own thread (the app itself never blocks on it)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from typing import Any, TypeVar

from durableagent.entity.loop import agent_loop, on_agent_loop

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the agent loop and block the calling thread until it finishes.

    Must not be called from the agent loop itself (that would deadlock).
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
