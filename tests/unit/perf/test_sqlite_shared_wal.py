"""``sqlite:PATH?synchronous=normal``: the conversation store sharing a FULL-committing host's WAL."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from durableagent.conversation import SessionRef, SQLiteConversationStore, StoreUnavailableError, TurnRecord
from durableagent.conversation.factory import store_from_url
from durableagent.local.bootstrap import CONVERSATION_STORE_ENV, LOCAL_HOST_ENV, prepare_environment

pytestmark = pytest.mark.anyio
REF = SessionRef("Agent", "s-1", "inc1")


def _record(turn: int) -> TurnRecord:
    return TurnRecord(
        turn=turn,
        request_id=f"req-{turn}",
        role="user",
        user={"type": "message", "role": "user", "contents": [{"type": "text", "text": "hello"}]},
        reply={"messages": [{"role": "assistant", "contents": [{"type": "text", "text": "re: hello"}]}]},
        value=None,
        error=None,
        started_at="2025-01-01T00:00:00Z",
        completed_at="2025-01-01T00:00:01Z",
    )


@pytest.fixture
def host(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(tmp_path / "state.sqlite", isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE entities (id TEXT PRIMARY KEY, state TEXT)")
    yield conn
    conn.close()


def test_the_url_option_selects_normal_and_a_path_may_contain_a_question_mark(tmp_path: Path) -> None:
    normal = store_from_url(f"sqlite:{tmp_path / 'a.sqlite'}?synchronous=normal")
    odd = store_from_url(f"sqlite:{tmp_path / 'b?c.sqlite'}")
    try:
        assert isinstance(normal, SQLiteConversationStore)
        assert normal.synchronous == "normal"
        assert isinstance(odd, SQLiteConversationStore)
        assert odd.synchronous == "full"
        assert odd.path.name == "b?c.sqlite"
    finally:
        normal.close()  # type: ignore[union-attr]
        odd.close()  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="synchronous"):
        SQLiteConversationStore(tmp_path / "c.sqlite", synchronous="off")


def test_the_local_host_asks_for_normal_only_on_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "host.json").write_text('{"version": "2.0"}')
    monkeypatch.delenv(CONVERSATION_STORE_ENV, raising=False)
    monkeypatch.setenv(LOCAL_HOST_ENV, "")  # restored after the test
    monkeypatch.setattr(sys, "path", list(sys.path))
    prepare_environment(app, None, str(tmp_path / "store.sqlite"))
    assert (
        os.environ[CONVERSATION_STORE_ENV]
        == f"sqlite:{(tmp_path / 'store.sqlite').resolve()}?synchronous=normal"
    )
    monkeypatch.delenv(CONVERSATION_STORE_ENV)
    prepare_environment(app, None, ":memory:")
    assert os.environ[CONVERSATION_STORE_ENV] == "memory:"


async def test_normal_mode_pragmas_and_mark_accepted_stays_full(
    tmp_path: Path, host: sqlite3.Connection
) -> None:
    store = SQLiteConversationStore(tmp_path / "state.sqlite", synchronous="normal")
    try:
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)  # the host checkpoints
        await store.mark_accepted("Agent", "s-1", "c-1")
        assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # restored after the FULL write
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (30000,)
        assert await store.request_state("Agent", "s-1", "c-1") == "accepted"
        assert await store.begin_attempt("Agent", "s-1", "c-1") == 1
        await store.append_turn(REF, _record(1))
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (30000,)
    finally:
        await store.aclose()
    # what a NORMAL write left is visible to the host's connection (same WAL)
    assert host.execute("SELECT count(*) FROM conv_turns").fetchone() == (1,)


async def test_a_busy_lock_falls_back_to_the_worker_thread(tmp_path: Path, host: sqlite3.Connection) -> None:
    store = SQLiteConversationStore(tmp_path / "state.sqlite", synchronous="normal", busy_timeout_ms=100)
    try:
        host.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailableError, match="unavailable"):
            await store.append_turn(REF, _record(1))
        assert await store.get_turn(REF, 1) is None  # an inline read does not wait for the writer
        host.execute("COMMIT")
        await store.append_turn(REF, _record(1))
        assert await store.get_turn(REF, 1) == _record(1)
        assert [r.turn for r in await store.load_turns(REF, 1, 50)] == [1]  # a long range: worker thread
    finally:
        await store.aclose()
