"""SQL over the entity tables of migration 0001 (entities, entity_mailbox, host_keys).

Why: the entity engine, the Durable HTTP API and the orchestration engine all touch the same rows;
the statements live here once. Every function takes the connection and runs on the store thread
(``Store.read``/``Store.write``), so callers choose the transaction boundary.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass

from durableagent.sqlite_toolkit import SQL_NOW

__all__ = [
    "EntityRow",
    "MailboxRow",
    "dequeue",
    "enqueue",
    "entity_id",
    "host_keys",
    "list_entities",
    "load_batch",
    "pending_entities",
    "read_entity",
    "save_entity",
    "save_host_keys",
    "split_entity_id",
]


# Constant statements (SQL_NOW is our own expression); every value is bound.
_ENQUEUE = (
    "INSERT INTO entity_mailbox (entity_id, operation, input, is_signal, request_id, parent_instance,"  # noqa: S608
    f" enqueued_at) VALUES (?, ?, ?, ?, ?, ?, {SQL_NOW})"
)
_SAVE_ENTITY = (
    f"INSERT INTO entities (entity_id, name, key, state, last_operation) VALUES (?, ?, ?, ?, {SQL_NOW})"  # noqa: S608
    " ON CONFLICT (entity_id) DO UPDATE SET state = excluded.state, last_operation = excluded.last_operation"
)


def entity_id(name: str, key: str) -> str:
    """The scheduler id ``@name@key`` of an entity: the one place that spells it.

    The Durable extension compares entity names case-insensitively and stores them lower-cased
    (``EntityId.GetSchedulerIdFromEntityId``); keys are case-sensitive. (``AgentSessionId``'s string
    keeps the name's case: it names a session, not a mailbox.)
    """
    return f"@{name.lower()}@{key}"


def split_entity_id(eid: str) -> tuple[str, str]:
    """``@name@key`` → ``(name, key)``; the key may itself contain ``@``.

    Raises:
        ValueError: ``eid`` is not a scheduler id.
    """
    at = eid.find("@", 1)
    if not eid.startswith("@") or at < 0:
        raise ValueError(f"not an entity id: {eid[:64]!r}")
    return eid[1:at], eid[at + 1 :]


@dataclass(frozen=True)
class MailboxRow:
    """One queued entity operation; ``parent_instance``: the calling orchestration (None: signal, client)."""

    seq: int
    operation: str
    input: str | None
    is_signal: bool
    request_id: str
    parent_instance: str | None


@dataclass(frozen=True)
class EntityRow:
    """One stored entity: its state JSON (None once deleted by its function) and last operation time."""

    entity_id: str
    name: str
    key: str
    state: str | None
    last_operation: str


def enqueue(
    conn: sqlite3.Connection,
    eid: str,
    operation: str,
    input_json: str | None,
    *,
    is_signal: bool,
    request_id: str | None = None,
    parent_instance: str | None = None,
) -> int:
    """Append one operation to ``eid``'s mailbox; returns its sequence number."""
    cur = conn.execute(
        _ENQUEUE,
        (eid, operation, input_json, int(is_signal), request_id or secrets.token_hex(16), parent_instance),
    )
    return int(cur.lastrowid or 0)


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


def load_batch(conn: sqlite3.Connection, eid: str, limit: int) -> list[MailboxRow]:
    """The oldest ``limit`` operations queued for ``eid``, in arrival order."""
    rows = conn.execute(
        "SELECT seq, operation, input, is_signal, request_id, parent_instance FROM entity_mailbox"
        " WHERE entity_id = ? ORDER BY seq LIMIT ?",
        (eid, limit),
    ).fetchall()
    return [MailboxRow(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows]


def read_entity(conn: sqlite3.Connection, eid: str) -> EntityRow | None:
    """The stored entity, or None if it does not exist."""
    r = conn.execute(
        "SELECT entity_id, name, key, state, last_operation FROM entities WHERE entity_id = ?", (eid,)
    ).fetchone()
    return EntityRow(*r) if r else None


def save_entity(conn: sqlite3.Connection, eid: str, *, exists: bool, state: str | None) -> None:
    """Write the batch's outcome: upsert the state, or delete the row when the entity no longer exists."""
    if not exists:
        conn.execute("DELETE FROM entities WHERE entity_id = ?", (eid,))
        return
    name, key = split_entity_id(eid)
    conn.execute(_SAVE_ENTITY, (eid, name, key, state))


def dequeue(conn: sqlite3.Connection, eid: str, last_seq: int) -> None:
    """Remove a processed batch from the mailbox (same transaction as :func:`save_entity`).

    A batch is always the oldest rows of its entity and ``seq`` only grows, so "up to the batch's
    last seq" is exactly the batch.
    """
    conn.execute("DELETE FROM entity_mailbox WHERE entity_id = ? AND seq <= ?", (eid, last_seq))


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


def host_keys(conn: sqlite3.Connection) -> dict[str, str]:
    """The persisted host keys by name (``system`` among them): stable across restarts."""
    return dict(conn.execute("SELECT name, value FROM host_keys").fetchall())


def save_host_keys(conn: sqlite3.Connection, keys: dict[str, str]) -> None:
    """Persist ``keys``; a name already stored keeps its first value."""
    conn.executemany("INSERT OR IGNORE INTO host_keys (name, value) VALUES (?, ?)", list(keys.items()))
