"""The SQLite store: migrations, pragmas, file mode, the one-host lock, integrity, entity tables."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from durableagent.local import entity_mailbox as mailbox
from durableagent.local import store_file
from durableagent.local.entity_batches import save_entity
from durableagent.local.entity_engine import list_entities, pending_entities
from durableagent.local.store import MEMORY, Store
from durableagent.local.store_file import StoreError, StoreLockedError
from durableagent.sqlite_toolkit import statements


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "s.sqlite")
    yield s
    s.close()


def test_migrations_are_shipped_as_package_data_in_order() -> None:
    found = store_file.migrations()
    assert found[0][0] == 1
    assert found[0][1].startswith("0001_")
    assert [v for v, _, _ in found] == sorted(v for v, _, _ in found)


def test_open_applies_migrations_and_records_them(store: Store) -> None:
    versions = store.read_sync(lambda c: c.execute("SELECT version, name FROM schema_version").fetchall())
    assert versions[0] == (1, "0001_entities.sql")
    assert len(versions) == len(store_file.migrations())
    names = store.read_sync(
        lambda c: {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    )
    assert {"entities", "entity_mailbox", "host_keys", "schema_version"} <= names


def test_pragmas_and_file_mode(store: Store, tmp_path: Path) -> None:
    def pragmas(c: sqlite3.Connection) -> tuple[object, ...]:
        return tuple(
            c.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        )

    assert store.read_sync(pragmas) == ("wal", 2, 30000, 1)
    assert stat.S_IMODE(os.stat(tmp_path / "s.sqlite").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "s.sqlite.lock").st_mode) == 0o600


def test_a_second_store_on_the_same_file_fails_fast(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreLockedError, match=f"pid {os.getpid()}"):
        Store(tmp_path / "s.sqlite")
    store.close()
    Store(tmp_path / "s.sqlite").close()  # released on close


def test_reopen_keeps_data_and_does_not_reapply_migrations(tmp_path: Path) -> None:
    s = Store(tmp_path / "s.sqlite")
    s.write_sync(lambda c: mailbox.enqueue(c, "@counter@k", "add", "1", is_signal=True))
    s.close()
    s = Store(tmp_path / "s.sqlite")
    try:
        batch = s.read_sync(lambda c: mailbox.load_batch(c, "@counter@k", 10))
        assert [r.operation for r in batch] == ["add"]
        assert s.read_sync(lambda c: c.execute("SELECT count(*) FROM schema_version").fetchone()[0]) == len(
            store_file.migrations()
        )
    finally:
        s.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    s = Store(tmp_path / "s.sqlite")
    s.write_sync(lambda c: c.execute("INSERT INTO schema_version VALUES (9999, 'future.sql', 'now')"))
    s.close()
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path / "s.sqlite")


def test_corrupt_file_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(StoreError, match="not a usable SQLite database"):
        Store(path)
    with pytest.raises(StoreError, match="not a usable SQLite database"):  # the lock was released
        Store(path)


def test_write_rolls_back_on_error(store: Store) -> None:
    def failing(c: sqlite3.Connection) -> None:
        mailbox.enqueue(c, "@counter@k", "add", None, is_signal=True)
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        store.write_sync(failing)
    assert store.read_sync(pending_entities) == []


def test_async_api_runs_off_the_loop(store: Store) -> None:
    async def go() -> list[str]:
        await store.write(lambda c: mailbox.enqueue(c, "@a@1", "x", None, is_signal=True))
        await store.write(lambda c: mailbox.enqueue(c, "@b@1", "x", None, is_signal=True))
        await store.write(lambda c: mailbox.enqueue(c, "@a@1", "y", None, is_signal=True))
        return await store.read(pending_entities)

    assert asyncio.run(go()) == ["@a@1", "@b@1"]


def test_memory_store() -> None:
    s = Store(MEMORY)
    try:
        s.write_sync(lambda c: save_entity(c, "@counter@k", exists=True, state='{"v": 1}'))
        row = s.read_sync(lambda c: mailbox.read_entity(c, "@counter@k"))
        assert row is not None
        assert row.state == '{"v": 1}'
        assert (row.name, row.key) == ("counter", "k")
    finally:
        s.close()


def test_entity_mailbox_batch_and_dequeue(store: Store) -> None:
    for i in range(5):
        store.write_sync(lambda c, i=i: mailbox.enqueue(c, "@counter@k", "op", str(i), is_signal=True))
    batch = store.read_sync(lambda c: mailbox.load_batch(c, "@counter@k", 3))
    assert [r.input for r in batch] == ["0", "1", "2"]

    def commit(c: sqlite3.Connection) -> None:
        save_entity(c, "@counter@k", exists=True, state="3")
        mailbox.dequeue(c, "@counter@k", batch[-1].seq)

    store.write_sync(commit)
    rest = store.read_sync(lambda c: mailbox.load_batch(c, "@counter@k", 10))
    assert [r.input for r in rest] == ["3", "4"]
    store.write_sync(lambda c: save_entity(c, "@counter@k", exists=False, state=None))
    assert store.read_sync(lambda c: mailbox.read_entity(c, "@counter@k")) is None


def test_list_entities_pages_by_id(store: Store) -> None:
    for key in ("b", "a", "c"):
        store.write_sync(lambda c, key=key: save_entity(c, f"@counter@{key}", exists=True, state="1"))
    store.write_sync(lambda c: save_entity(c, "@other@z", exists=True, state="1"))
    first = store.read_sync(lambda c: list_entities(c, "Counter", after=None, limit=2))
    assert [r.key for r in first] == ["a", "b"]
    rest = store.read_sync(lambda c: list_entities(c, "counter", after=first[-1].entity_id, limit=2))
    assert [r.key for r in rest] == ["c"]
    assert len(store.read_sync(lambda c: list_entities(c, None, after=None, limit=10))) == 4


def test_split_entity_id() -> None:
    assert mailbox.split_entity_id("@counter@a@b") == ("counter", "a@b")
    assert mailbox.entity_id("Counter", "K") == "@counter@K"
    with pytest.raises(ValueError, match="not an entity id"):
        mailbox.split_entity_id("counter")


def test_integrity_check_after_use(store: Store) -> None:
    store.write_sync(lambda c: mailbox.enqueue(c, "@counter@k", "add", "1", is_signal=True))
    assert store.read_sync(lambda c: c.execute("PRAGMA integrity_check").fetchone()[0]) == "ok"


def test_statement_splitter_keeps_triggers_whole() -> None:
    script = "CREATE TABLE t (a);\n-- note\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  SELECT 1;\nEND;\n"
    parts = statements(script)
    assert len(parts) == 2
    assert parts[1].strip().startswith("-- note")
