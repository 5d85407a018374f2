"""Cancelling a running turn at a safe point (issue 14.5).

A cancel leaves a durable ``cancel`` mark on the request (``conversation/control.py``): a turn that
has not started yet reads it when it reaches the entity and never runs (``entity/turn.py``). A
running turn is stopped here, at its next *safe point*:

* during a model call: at once (the call is abandoned; a model call has no effect outside the
  conversation, and nothing of it is kept);
* during a tool call: when the tool returns (a tool may have effects; it is never interrupted
  half-way), before the next model call.

How: the agent's run is a task, given run-level middleware (``Agent.run(middleware=...)``; Agent
Framework runs run-level function middleware around every tool invocation and chat middleware
around every model call, agent_framework/_middleware.py ``AgentMiddlewareLayer.run``). The function
middleware counts the tool calls in flight, so a cancel that arrives during one waits for it, and
stops the run as soon as it returns; the chat middleware stops it before any later model call.
When a cancel arrives and no tool is in flight, the task is cancelled. The cancel reaches the scope
at once when the ``POST .../cancel`` is served by the same process (:func:`deliver`, the local host
and a one-worker Functions app), else through the mark, read every ``control.POLL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from agent_framework import ChatContext, FunctionInvocationContext, chat_middleware, function_middleware

from durableagent.conversation.base import POLL_SECONDS

T = TypeVar("T")
Key = tuple[str, str, str]  # (agent, session, request id)
_running: dict[Key, CancelScope] = {}
_lock = threading.Lock()


class TurnCancelledError(Exception):
    """The agent's run was stopped by a cancel (the turn records ``turn-cancelled``)."""


class CancelScope:
    """One running agent call: whether a cancel was asked, and how many tool calls are in flight."""

    def __init__(self, key: Key, mark_read: Callable[[], Awaitable[bool]] | None = None) -> None:
        """A scope for the turn ``key``; ``mark_read`` tells whether its durable mark says cancel."""
        self.key = key
        self.loop = asyncio.get_running_loop()
        self.requested = asyncio.Event()
        self.changed = asyncio.Event()  # set whenever a tool call starts or ends
        self.tools = 0
        self._mark_read = mark_read

    def cancel(self) -> None:
        """Ask the run to stop at its next safe point (from any thread)."""
        self.loop.call_soon_threadsafe(self.requested.set)

    def middleware(self) -> list[Any]:
        """Run-level middleware: the safe points (before each model call, around each tool call).

        A tool call in flight is counted (:attr:`tools`) so the run is not cancelled under it; once
        it returns with a cancel pending, the run stops there, before its result reaches a model.
        """

        @function_middleware
        async def tool_point(
            context: FunctionInvocationContext, call_next: Callable[[], Awaitable[None]]
        ) -> None:
            if self.requested.is_set():
                raise asyncio.CancelledError  # the cancel won: this tool does not start
            self.tools += 1
            self.changed.set()
            try:
                await call_next()
            finally:
                self.tools -= 1
                self.changed.set()
            if self.requested.is_set():
                raise asyncio.CancelledError  # the tool is done: stop before the next model call

        @chat_middleware
        async def model_point(context: ChatContext, call_next: Callable[[], Awaitable[None]]) -> None:
            if self.requested.is_set():
                raise asyncio.CancelledError
            await call_next()

        return [tool_point, model_point]

    async def _poll(self) -> None:
        if self._mark_read is None:
            return
        while not self.requested.is_set():
            await asyncio.sleep(POLL_SECONDS)
            with contextlib.suppress(Exception):  # a store hiccup only delays the cancel
                if await self._mark_read():
                    self.requested.set()

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work``; raises :class:`TurnCancelledError` when a cancel stopped it at a safe point."""
        with _lock:
            _running[self.key] = self
        task = asyncio.ensure_future(work)
        poller = asyncio.ensure_future(self._poll())
        try:
            while not task.done():
                self.changed.clear()  # before reading ``tools``: a tool ending after the read wakes us
                if self.requested.is_set() and self.tools == 0:
                    break
                wake = self.changed.wait() if self.requested.is_set() else self.requested.wait()
                other = asyncio.ensure_future(wake)
                try:
                    await asyncio.wait([task, other], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    other.cancel()
            if task.done() and not (task.cancelled() and self.requested.is_set()):
                return task.result()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise TurnCancelledError
        finally:
            poller.cancel()
            if not task.done():
                task.cancel()
            with _lock:
                if _running.get(self.key) is self:
                    del _running[self.key]


def deliver(agent: str, session: str, request_id: str) -> bool:
    """Cancel the turn if it runs in this process; returns whether it did."""
    with _lock:
        scope = _running.get((agent, session, request_id))
    if scope is None:
        return False
    scope.cancel()
    return True
