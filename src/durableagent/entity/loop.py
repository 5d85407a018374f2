"""The agent loop, where every agent call runs, and how a running call is stopped.

Why one loop: agents and their chat clients keep loop-bound resources (HTTP connection pools,
credentials), and so do conversation store clients. Moving such a client between event loops
breaks it, and a fresh ``asyncio.run`` per operation closes the pool the client holds. So every
coroutine that touches an agent (or a conversation store client) runs on this one loop, on its own
daemon thread, for the life of the process; the session entity's batches and the HTTP routes,
which run on the worker's (or the local host's) loop, reach it with :func:`run_async`.
Invariant: there is exactly one agent loop per process; it is created lazily and never closed
while the process runs (``shutdown`` exists for tests and graceful exits).

Stopping a call (issue 14.5). A cancel leaves a durable ``cancel`` mark on the request
(``conversation/store_protocol.py``): a turn that has not started yet reads it when it reaches the entity
(:func:`marked`) and never runs (``entity/turn.py``). A running turn is stopped by its
:class:`CancelScope` at its next *safe point*:

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
and a one-worker Functions app), else through the mark, read every ``base.POLL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from agent_framework import ChatContext, FunctionInvocationContext, chat_middleware, function_middleware

from durableagent.conversation.base import POLL_SECONDS, Mark, control_of
from durableagent.conversation.store_protocol import ConversationStore

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


# Stopping a running call

Key = tuple[str, str, str]  # (agent, session, request id)
_running: dict[Key, CancelScope] = {}
_scopes_lock = threading.Lock()


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
        with _scopes_lock:
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
            with _scopes_lock:
                if _running.get(self.key) is self:
                    del _running[self.key]


def deliver(agent: str, session: str, request_id: str) -> bool:
    """Cancel the turn if it runs in this process; returns whether it did."""
    with _scopes_lock:
        scope = _running.get((agent, session, request_id))
    if scope is None:
        return False
    scope.cancel()
    return True


async def marked(store: ConversationStore, agent: str, session: str, request_id: str) -> Mark | None:
    """The request's mark (None when the store keeps no marks): one point read per turn."""
    control = control_of(store)
    return await control.mark_of(agent, session, request_id) if control is not None else None


def cancel_scope(store: ConversationStore, agent: str, session: str, request_id: str) -> CancelScope:
    """The scope of a turn's agent call: cancels in this process, and the store's mark from any other."""
    control = control_of(store)

    async def cancelled() -> bool:
        return control is not None and await control.mark_of(agent, session, request_id) == "cancel"

    return CancelScope((agent, session, request_id), cancelled if control is not None else None)


def is_cancel(exc: BaseException) -> bool:
    """Whether the agent call ended because a cancel stopped it."""
    return isinstance(exc, TurnCancelledError)
