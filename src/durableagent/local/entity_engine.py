"""The host's entity engine: mailboxes (:mod:`entity_mailbox`) drained into batches (:mod:`entity_batches`).

Why a module of its own: what runs only when the host starts or stops, crash recovery and
shutdown, and the management API's listing of entities are off every request's path; here they
stay out of the two modules a signal and its batch pass through. The engine is an
:class:`EntityMailboxes` whose batches an :class:`EntityBatches` runs, plus:

* :meth:`EntityEngine.start`: re-dispatch every non-empty mailbox. A crash before a batch's COMMIT
  left its rows in the mailbox; they run again, in order, before or with anything new;
* :meth:`EntityEngine.stop`: start no new batch, give the running ones a grace period (the rest
  are redelivered at the next start), and let the entity threads go.
"""

from __future__ import annotations

import asyncio
import sqlite3

from durableagent.local.entity_mailbox import EntityMailboxes, EntityRow


class EntityEngine(EntityMailboxes):
    """The mailboxes, drains and batch commits of every entity of one host, started and stopped."""

    async def start(self) -> None:
        """Re-dispatch every non-empty mailbox (crash recovery)."""
        self._loop = asyncio.get_running_loop()
        self.queued = await self.store.read(queued_counts)
        self.queued_total = sum(self.queued.values())
        for eid in await self.store.read(pending_entities):
            self.wake(eid)

    async def stop(self, timeout: float) -> None:
        """Start no new batch; wait up to ``timeout`` s for running ones (the rest are redelivered later)."""
        self._stopping = True
        tasks = list(self._active.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self.batches.pool.shutdown(wait=False, cancel_futures=True)


def pending_entities(conn: sqlite3.Connection) -> list[str]:
    """Entities with queued operations, oldest first (re-dispatched at startup)."""
    rows = conn.execute(
        "SELECT entity_id, min(seq) AS first FROM entity_mailbox GROUP BY entity_id ORDER BY first"
    ).fetchall()
    return [r[0] for r in rows]


def queued_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """The number of queued operations of every entity that has any (the backlog after a restart)."""
    rows = conn.execute("SELECT entity_id, count(*) FROM entity_mailbox GROUP BY entity_id").fetchall()
    return {r[0]: int(r[1]) for r in rows}


def list_entities(
    conn: sqlite3.Connection,
    name: str | None,
    *,
    after: str | None,
    limit: int,
    from_time: str | None = None,
    to_time: str | None = None,
) -> list[EntityRow]:
    """Existing entities ordered by id, optionally of one (lower-cased) name, after a continuation id."""
    clauses, args = [], []
    if name is not None:
        clauses.append("name = ?")
        args.append(name.lower())
    if after is not None:
        clauses.append("entity_id > ?")
        args.append(after)
    if from_time is not None:
        clauses.append("last_operation >= ?")
        args.append(from_time)
    if to_time is not None:
        clauses.append("last_operation <= ?")
        args.append(to_time)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = "SELECT entity_id, name, key, state, last_operation FROM entities" + where  # noqa: S608 - fixed predicates, bound values
    rows = conn.execute(
        sql + " ORDER BY entity_id LIMIT ?",
        (*args, limit),
    ).fetchall()
    return [EntityRow(*r) for r in rows]
