"""Group commit: the durable writes waiting for the store thread share one transaction and one fsync.

Why: every entity batch, signal and orchestration episode commits ``synchronous=FULL``; one at a
time, the store thread spends an fsync (2-7 ms on this class of disk) per write, which caps a host
at a few hundred commits per second however many sessions are in flight (1,000 turns on a slow
model all finish their model call within milliseconds of each other, then queue for 1,000
fsyncs). Here the writes queued while the previous group committed run as one ``BEGIN IMMEDIATE``
… ``COMMIT``, each inside its own ``SAVEPOINT``:

* a write that raises is rolled back to its savepoint and only its caller sees the exception (as
  if its own transaction had rolled back); the others still commit;
* the writes run in the order they were queued, each seeing the ones before it: the same outcome
  as committing them one after another;
* no caller hears of its write before the group's COMMIT returned (its future resolves after it);
  a crash before that COMMIT loses the whole group, none of which was acknowledged;
* when the transaction itself is lost (COMMIT fails, or an error made SQLite roll the whole
  transaction back) every write of the group fails with that error, and its caller retries.

A group of one is a plain :func:`~durableagent.sqlite_toolkit.transaction`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from durableagent.sqlite_toolkit import transaction

MAX_GROUP = 512
"""Writes per transaction at most (the rest wait for the next group)."""


@dataclass
class PendingWrite:
    """One queued write: the SQL function, what runs after COMMIT, and the caller's future."""

    fn: Callable[[sqlite3.Connection], Any]
    after_commit: Callable[[], None] | None
    future: Future[Any]


class WriteQueue:
    """Writes waiting for the store thread; :meth:`put` says whether a drain must be scheduled."""

    def __init__(self) -> None:
        """An empty queue with no drain scheduled."""
        self._lock = threading.Lock()
        self._items: list[PendingWrite] = []
        self._scheduled = False

    def put(self, item: PendingWrite) -> bool:
        """Queue ``item``; True when the caller must schedule :meth:`take` on the store thread."""
        with self._lock:
            self._items.append(item)
            if self._scheduled:
                return False
            self._scheduled = True
            return True

    def take(self) -> tuple[list[PendingWrite], bool]:
        """The next group (up to :data:`MAX_GROUP`) and whether more are left (schedule again)."""
        with self._lock:
            group, self._items = self._items[:MAX_GROUP], self._items[MAX_GROUP:]
            more = bool(self._items)
            self._scheduled = more
            return group, more


def commit_group(
    conn: sqlite3.Connection, group: list[PendingWrite], settled: Callable[[bool], None] | None = None
) -> None:
    """Run ``group`` in one transaction on ``conn`` (store thread, lock held) and resolve its futures.

    ``settled(ok)`` runs before any caller hears the outcome; ``ok`` is False when SQLite failed a
    write (the store truncates its WAL once writes succeed again, before anyone is answered).
    """
    live = [w for w in group if w.future.set_running_or_notify_cancel()]
    if not live:
        return
    if len(live) == 1:
        only = live[0]
        try:
            result = transaction(conn, only.fn)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            if settled is not None:
                settled(not isinstance(exc, sqlite3.Error))
            only.future.set_exception(exc)
            return
        if settled is not None:
            settled(True)
        _resolve([(only, True, result)])
        return
    outcomes: list[tuple[PendingWrite, bool, Any]] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for write in live:
            conn.execute("SAVEPOINT grouped")
            try:
                result = write.fn(conn)
            except Exception as exc:
                if not conn.in_transaction:  # SQLite rolled the whole transaction back
                    raise
                conn.execute("ROLLBACK TO grouped")
                conn.execute("RELEASE grouped")
                outcomes.append((write, False, exc))
            else:
                conn.execute("RELEASE grouped")
                outcomes.append((write, True, result))
        conn.execute("COMMIT")
    except BaseException as exc:  # noqa: BLE001 - the whole group failed: every caller hears why
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            if settled is not None:
                settled(not isinstance(exc, sqlite3.Error))
            for write in live:
                write.future.set_exception(exc)
        return
    if settled is not None:
        settled(not any(not ok and isinstance(value, sqlite3.Error) for _w, ok, value in outcomes))
    _resolve(outcomes)


def _resolve(outcomes: list[tuple[PendingWrite, bool, Any]]) -> None:
    for write, ok, value in outcomes:
        if not ok:
            write.future.set_exception(value)
            continue
        if write.after_commit is not None:
            write.after_commit()
        write.future.set_result(value)
