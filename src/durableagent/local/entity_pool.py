"""The threads entity functions run on: one per running batch, started on demand, gone when idle.

Why: the Durable SDK runs an entity function synchronously. ``Entity.create(fn)`` gives the
worker a plain function whose ``Entity.handle`` loops over the batch calling ``self.fn(context)``
and reads ``context._result`` right after it returns (azure-functions-durable-python,
``azure/durable_functions/entity.py``), so an ``async def`` entity function would hand back an
unawaited coroutine. A batch therefore holds a thread for as long as its operations run; a turn on
an agent waits seconds on its model, and durableagent's session entity blocks that thread on the
agent loop meanwhile (``entity/session.py``). Sharing the pool of HTTP functions, min(32, CPUs + 4)
threads, let about six turns wait on their models at once on two cores.

The Durable extension bounds entity work by its own setting, ``maxConcurrentEntityFunctions``
(azure-functions-durable-extension, ``DurableTaskOptions.MaxConcurrentEntityFunctions``), not by
the worker's HTTP pool; the local host honours it from host.json, default :data:`DEFAULT_MAX`. A
waiting thread costs little (its stack pages are touched lazily, it holds no GIL while blocked),
and the pool lets a thread go after :data:`IDLE_SECONDS` without work, so a burst of in-flight
sessions does not leave a thousand threads behind.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_MAX = 2048
"""Entity batches that may run at once when host.json sets no ``maxConcurrentEntityFunctions``."""
IDLE_SECONDS = 30.0
"""A thread with no work for this long ends."""

_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class EntityPool(Executor):
    """An executor whose threads are started when every existing one is busy (up to ``max_threads``)."""

    def __init__(self, max_threads: int = DEFAULT_MAX, idle_seconds: float = IDLE_SECONDS) -> None:
        """Run at most ``max_threads`` calls at once; idle threads end after ``idle_seconds``."""
        if max_threads < 1:
            raise ValueError("max_threads must be >= 1")
        self.max_threads = max_threads
        self.idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._queue: deque[_Item] = deque()
        self._threads = 0  # alive
        self._waiting = 0  # alive and waiting for work
        self._shutdown = False
        self._started = 0  # threads started so far (their names)
        self._to_start = 0  # counted in _threads, not yet started
        self._spawner: threading.Thread | None = None
        self._spawn_wanted = threading.Event()

    @property
    def threads(self) -> int:
        """Threads alive now."""
        return self._threads

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on a pool thread; a new thread if none is free and the cap allows."""
        future: Future[T] = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            self._queue.append((future, fn, args, kwargs))
            if self._waiting >= len(self._queue):
                self._cond.notify()
            elif self._threads < self.max_threads:
                self._threads += 1  # counted now, started by the spawner
                self._to_start += 1
                if self._spawner is None:
                    self._spawner = threading.Thread(target=self._spawn, name="entity-spawner", daemon=True)
                    self._spawner.start()
                else:
                    self._spawn_wanted.set()
        return future

    def _spawn(self) -> None:
        """Start the threads :meth:`submit` asked for, off the caller's thread.

        ``Thread.start`` waits until the new thread runs: milliseconds on a busy machine, which
        must never be spent on the host's event loop.
        """
        while True:
            with self._cond:
                count, self._to_start = self._to_start, 0
                if self._shutdown:
                    return
            for _ in range(count):
                self._started += 1
                threading.Thread(target=self._work, name=f"entity-{self._started}", daemon=True).start()
            self._spawn_wanted.wait()
            self._spawn_wanted.clear()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._waiting += 1
                while not self._queue and not self._shutdown:
                    if not self._cond.wait(self.idle_seconds) and not self._queue:
                        break
                self._waiting -= 1
                if not self._queue:  # idle too long, or shut down
                    self._threads -= 1
                    return
                future, fn, args, kwargs = self._queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Start nothing new; with ``cancel_futures`` cancel what has not started; ``wait`` is not honoured.

        Threads blocked in a running entity function are daemons: they end with the process.
        """
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                while self._queue:
                    self._queue.popleft()[0].cancel()
            self._cond.notify_all()
        self._spawn_wanted.set()
