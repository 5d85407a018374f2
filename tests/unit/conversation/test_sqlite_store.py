"""SQLite-only behaviour: sharing the host's file, pragmas, permissions, locking, reopen, threads."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from turn_records import record

from durableagent.conversation import SessionRef, SQLiteConversationStore, StoreError, StoreUnavailableError
from durableagent.conversation.sqlite import LOAD_SQL, SCHEMA_VERSION

pytestmark = pytest.mark.anyio
REF = SessionRef("Agent", "s-1", "inc1")


@pytest.fixture
def host(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The local host's own connection and tables in the same file."""
    conn = sqlite3.connect(tmp_path / "state.sqlite", isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE entities (name TEXT, key TEXT, state TEXT, PRIMARY KEY (name, key))")
    conn.execute("INSERT INTO entities VALUES ('agent', 's-1', '{}')")
    yield conn
    conn.close()


async def test_shares_the_hosts_file(tmp_path: Path, host: sqlite3.Connection) -> None:
    store = SQLiteConversationStore(tmp_path / "state.sqlite")
    try:
        await store.append_turn(REF, record(1))
        host.execute("BEGIN IMMEDIATE")
        host.execute("UPDATE entities SET state = '{\"turns\": 1}'")
        host.execute("COMMIT")
        assert await store.get_turn(REF, 1) == record(1)
    finally:
        await store.aclose()
    tables = {row[0] for row in host.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {
        "entities",
        "conv_schema_version",
        "conv_turns",
        "conv_requests",
        "conv_stream",
        "conv_stream_end",
    }
    assert host.execute("SELECT state FROM entities").fetchone() == ('{"turns": 1}',)
    assert host.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert host.execute("SELECT max(version) FROM conv_schema_version").fetchone() == (SCHEMA_VERSION,)


async def test_new_file_is_private_wal_and_durable(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "new.sqlite"
    store = SQLiteConversationStore(path)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (30000,)
        plan = " ".join(
            str(row) for row in conn.execute(f"EXPLAIN QUERY PLAN {LOAD_SQL}", ("a", "s", "i", 1, 9))
        )
        assert "USING INDEX" in plan
        assert "TEMP B-TREE" not in plan  # ordered by the index itself
        await store.append_turn(REF, record(1))
        await store.begin_attempt("Agent", "s-1", "c-1")
    finally:
        await store.aclose()
    reopened = SQLiteConversationStore(path)
    try:
        assert await reopened.get_turn(REF, 1) == record(1)
        assert await reopened.begin_attempt("Agent", "s-1", "c-1") == 2
    finally:
        await reopened.aclose()


async def test_a_rollback_journal_file_is_switched_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE other (x)")
    conn.close()
    store = SQLiteConversationStore(path)
    await store.aclose()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    SQLiteConversationStore(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO conv_schema_version VALUES (99, 'future', 'now')")
    conn.close()
    with pytest.raises(StoreError, match="version 99 is newer"):
        SQLiteConversationStore(path)


async def test_a_held_write_lock_is_unavailable_not_a_crash(tmp_path: Path, host: sqlite3.Connection) -> None:
    store = SQLiteConversationStore(tmp_path / "state.sqlite", busy_timeout_ms=100)
    try:
        host.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError, match="unavailable"):
            await store.append_turn(REF, record(1))
        assert await store.get_turn(REF, 1) is None  # readers are not blocked in WAL mode
        host.execute("COMMIT")
        await store.append_turn(REF, record(1))
        assert await store.get_turn(REF, 1) == record(1)
    finally:
        await store.aclose()


def test_calls_from_many_threads_and_loops(tmp_path: Path) -> None:
    store = SQLiteConversationStore(tmp_path / "state.sqlite")
    counts: list[int] = []

    def worker() -> None:
        for _ in range(10):
            counts.append(asyncio.run(store.begin_attempt("Agent", "s-1", "c-1")))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join()
    assert sorted(counts) == list(range(1, 41))
    with pytest.raises(StoreError, match="closed"):
        asyncio.run(store.begin_attempt("Agent", "s-1", "c-1"))
