"""Group commit: durable writes queued together share one transaction, each in its own savepoint."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from durableagent.local import store as store_mod
from durableagent.local.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "s.sqlite")
    s.write_sync(lambda c: c.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    yield s
    s.close()


def _held(store: Store) -> tuple[threading.Event, threading.Event]:
    """Occupy the store thread until ``release`` is set, so the next writes queue up as one group."""
    entered, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        entered.set()
        release.wait(10)

    store._executor.submit(hold, None)
    assert entered.wait(10)
    return entered, release


async def _queued(store: Store, count: int) -> None:
    """Wait until ``count`` writes wait in the store's queue (observed, not assumed after a sleep)."""
    for _ in range(10_000):
        if len(store._writes._items) >= count:
            return
        await asyncio.sleep(0)  # one loop iteration: the write tasks queue their writes
    raise AssertionError(f"{count} writes never reached the store's queue")


def _rows(store: Store) -> list[tuple[int, str]]:
    return store.read_sync(lambda c: c.execute("SELECT k, v FROM t ORDER BY k").fetchall())


def test_queued_writes_commit_in_one_transaction_and_a_failing_one_alone_rolls_back(store: Store) -> None:
    def insert(k: int, fail: bool = False):
        def fn(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO t VALUES (?, ?)", (k, f"v{k}"))
            if fail:
                raise ValueError(f"write {k} refused")
            return k

        return fn

    commits: list[int] = []

    async def main() -> list[object]:
        _, release = _held(store)
        writes = [
            store.write(insert(1)),
            store.write(insert(2, fail=True)),
            store.write(insert(3), after_commit=lambda: commits.append(3)),
            store.write(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]),
        ]
        tasks = [asyncio.ensure_future(w) for w in writes]
        await _queued(store, 4)
        assert not any(t.done() for t in tasks)  # nothing is answered before the group's COMMIT
        release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = asyncio.run(main())
    assert results[0] == 1
    assert results[2] == 3
    assert isinstance(results[1], ValueError)
    assert results[3] == 2  # the fourth write saw the first and third, not the rolled-back second
    assert commits == [3]
    assert _rows(store) == [(1, "v1"), (3, "v3")]


def test_a_lost_transaction_fails_every_write_of_the_group(store: Store) -> None:
    def rollback_all(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t VALUES (10, 'x')")
        conn.execute("ROLLBACK")  # what SQLite does by itself on some errors (SQLITE_FULL, IOERR)
        raise sqlite3.OperationalError("database or disk is full")

    async def main() -> list[object]:
        _, release = _held(store)
        tasks = [
            asyncio.ensure_future(store.write(lambda c: c.execute("INSERT INTO t VALUES (9, 'y')"))),
            asyncio.ensure_future(store.write(rollback_all)),
        ]
        await _queued(store, 2)
        release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = asyncio.run(main())
    assert all(isinstance(r, sqlite3.OperationalError) for r in results), results
    assert _rows(store) == []
    store.write_sync(lambda c: c.execute("INSERT INTO t VALUES (11, 'z')"))  # the store still works
    assert _rows(store) == [(11, "z")]


def test_groups_are_bounded(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_mod, "MAX_GROUP", 3)
    sizes: list[int] = []
    real = store_mod.commit_group

    def spy(
        conn: sqlite3.Connection,
        group: list[store_mod.PendingWrite],
        settled: Callable[[bool], None] | None = None,
    ) -> None:
        sizes.append(len(group))
        real(conn, group, settled)

    monkeypatch.setattr("durableagent.local.store.commit_group", spy)

    async def main() -> None:
        _, release = _held(store)
        tasks = [
            asyncio.ensure_future(store.write(lambda c, k=k: c.execute("INSERT INTO t VALUES (?, '')", (k,))))
            for k in range(8)
        ]
        await _queued(store, 8)
        release.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert sizes == [3, 3, 2]
    assert [k for k, _ in _rows(store)] == list(range(8))
