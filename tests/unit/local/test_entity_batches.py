"""The entity pool: a thread per running call, started off the caller's thread, ended when idle."""

from __future__ import annotations

import threading

import pytest

from durableagent.local.entity_batches import EntityPool


def test_every_blocked_call_gets_its_own_thread_up_to_the_cap() -> None:
    pool = EntityPool(max_threads=50, idle_seconds=5)
    release = threading.Event()
    started = threading.Semaphore(0)

    def blocked(k: int) -> int:
        started.release()
        release.wait(10)
        return k

    futures = [pool.submit(blocked, k) for k in range(40)]
    for _ in range(40):  # all 40 run at once: none waits for another to finish
        assert started.acquire(timeout=10)
    assert pool.threads == 40
    release.set()
    assert [f.result(10) for f in futures] == list(range(40))
    pool.shutdown()


def test_the_cap_queues_the_rest_and_results_and_errors_reach_the_caller() -> None:
    pool = EntityPool(max_threads=2, idle_seconds=5)
    gate = threading.Event()
    running = threading.Semaphore(0)

    def work(k: int) -> int:
        running.release()
        gate.wait(10)
        if k == 3:
            raise ValueError("boom")
        return k * 10

    futures = [pool.submit(work, k) for k in range(5)]
    assert running.acquire(timeout=10)
    assert running.acquire(timeout=10)
    assert not running.acquire(timeout=0.2)  # the third waits for a free thread
    assert pool.threads == 2
    gate.set()
    assert [f.result(10) for f in futures[:3]] + [futures[4].result(10)] == [0, 10, 20, 40]
    with pytest.raises(ValueError, match="boom"):
        futures[3].result(10)
    pool.shutdown()


def test_idle_threads_end_and_new_work_starts_new_ones() -> None:
    pool = EntityPool(max_threads=8, idle_seconds=0.05)
    names = [pool.submit(lambda: threading.current_thread().name).result(10) for _ in range(3)]
    assert all(n.startswith("entity-") for n in names)
    ended = threading.Event()

    def poll() -> None:
        while pool.threads:
            ended.wait(0.01)
        ended.set()

    watcher = threading.Thread(target=poll)
    watcher.start()
    watcher.join(10)
    assert ended.is_set()
    assert pool.threads == 0
    assert pool.submit(lambda: 7).result(10) == 7
    pool.shutdown()


def test_shutdown_cancels_what_has_not_started() -> None:
    pool = EntityPool(max_threads=1, idle_seconds=5)
    gate, running = threading.Event(), threading.Event()

    def first() -> None:
        running.set()
        gate.wait(10)

    pool.submit(first)
    assert running.wait(10)
    waiting = pool.submit(lambda: 1)
    pool.shutdown(wait=False, cancel_futures=True)
    assert waiting.cancelled()
    gate.set()
    with pytest.raises(RuntimeError):
        pool.submit(lambda: 2)
