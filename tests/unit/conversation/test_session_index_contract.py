"""The session index half of the ConversationStore contract, on every backend (conftest.BACKENDS).

Memory, SQLite and Azure Table storage (Azurite) answer the same listing pages, the same expiry
ranges and the same refusals; the listing is paged through to the end and compared with the rows
written, so a skipped, repeated or misordered row fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from turn_records import record

from durableagent.conversation import (
    ConversationStore,
    InvalidCursorError,
    SessionRef,
    SessionSummary,
)
from durableagent.conversation.paging import encode_cursor

pytestmark = pytest.mark.anyio
AGENT = "WeatherAgent"


def summary(
    session: str, active: str, *, turns: int = 1, expires: str | None = None, agent: str = AGENT
) -> SessionSummary:
    return SessionSummary(agent, session, "2026-01-01T00:00:00.000Z", active, turns, expires)


def at(second: int) -> str:
    return f"2026-01-02T00:{second // 60:02d}:{second % 60:02d}.000Z"


async def listing(store: ConversationStore, agent: str, limit: int) -> list[SessionSummary]:
    pages, cursor = [], None
    while True:
        page = await store.list_sessions(agent, limit, cursor)
        assert len(page.sessions) <= limit
        pages.extend(page.sessions)
        if page.next_cursor is None:
            return pages
        assert page.sessions, "a page with a next cursor is never empty"
        cursor = page.next_cursor


async def test_touch_then_get_and_replace(store: ConversationStore) -> None:
    assert await store.get_session(AGENT, "s1") is None
    first = summary("s1", at(1), expires="2026-01-16T00:00:01.000Z")
    await store.touch_session(first)
    assert await store.get_session(AGENT, "s1") == first
    second = summary("s1", at(5), turns=2, expires=None)
    await store.touch_session(second)
    assert await store.get_session(AGENT, "s1") == second
    assert (await store.list_sessions(AGENT, 10)).sessions == [second]
    assert await store.expired_sessions(AGENT, "2027-01-01T00:00:00.000Z", 10) == []


async def test_listing_is_newest_activity_first_in_pages(store: ConversationStore) -> None:
    written = [summary(f"s{i:03d}", at(i % 50), turns=i) for i in range(120)]  # many ties on time
    await asyncio.gather(*(store.touch_session(s) for s in written))
    await store.touch_session(summary("other", at(59), agent="OtherAgent"))
    expected = sorted(sorted(written, key=lambda s: s.session), key=lambda s: s.last_active_at, reverse=True)
    assert await listing(store, AGENT, 7) == expected
    assert await listing(store, AGENT, 1000) == expected
    assert [s.session for s in await listing(store, "OtherAgent", 5)] == ["other"]
    assert (await store.list_sessions("NoSuchAgent", 5)).sessions == []


async def test_activity_moves_a_session_to_the_front(store: ConversationStore) -> None:
    for i in range(5):
        await store.touch_session(summary(f"s{i}", at(i)))
    await store.touch_session(summary("s1", at(30), turns=2))
    assert [s.session for s in await listing(store, AGENT, 2)] == ["s1", "s4", "s3", "s2", "s0"]


async def test_expired_sessions_in_expiry_order(store: ConversationStore) -> None:
    await store.touch_session(summary("late", at(1), expires=at(40)))
    await store.touch_session(summary("early", at(2), expires=at(10)))
    await store.touch_session(summary("never", at(3)))
    await store.touch_session(summary("edge", at(4), expires=at(20)))
    assert [s.session for s in await store.expired_sessions(AGENT, at(20), 10)] == ["early", "edge"]
    assert [s.session for s in await store.expired_sessions(AGENT, at(20), 1)] == ["early"]
    assert await store.expired_sessions(AGENT, at(9), 10) == []
    await store.touch_session(summary("early", at(30), expires=at(50)))  # activity moves its expiry
    assert [s.session for s in await store.expired_sessions(AGENT, at(45), 10)] == ["edge", "late"]


async def test_drop_session_removes_the_summary(store: ConversationStore) -> None:
    ref = SessionRef(AGENT, "s1", "inc1")
    await store.append_turn(ref, record(1))
    await store.touch_session(summary("s1", at(1), expires=at(2)))
    await store.touch_session(summary("s2", at(2), expires=at(3)))
    await store.drop_session(AGENT, "s1")
    assert await store.get_session(AGENT, "s1") is None
    assert [s.session for s in (await store.list_sessions(AGENT, 10)).sessions] == ["s2"]
    assert [s.session for s in await store.expired_sessions(AGENT, at(10), 10)] == ["s2"]
    await store.drop_session(AGENT, "s1")  # idempotent


@pytest.mark.parametrize("cursor", ["", "%%%", encode_cursor("x|y"), encode_cursor("s|nope|s1"), "YQ"])
async def test_foreign_cursors_are_refused(store: ConversationStore, cursor: str) -> None:
    await store.touch_session(summary("s1", at(1)))
    with pytest.raises(InvalidCursorError):
        await store.list_sessions(AGENT, 10, cursor)


async def test_bad_limits_are_refused(store: ConversationStore) -> None:
    for limit in (0, -1, 1001):
        with pytest.raises(ValueError):
            await store.list_sessions(AGENT, limit)


async def test_index_survives_reopening(make_store: Callable[[], ConversationStore]) -> None:
    first = make_store()
    try:
        await first.touch_session(summary("s1", at(1), expires=at(9)))
    finally:
        await first.aclose()
    second = make_store()
    try:
        if type(second).__name__ == "MemoryConversationStore":
            pytest.skip("the memory store keeps nothing across instances")
        assert await second.get_session(AGENT, "s1") == summary("s1", at(1), expires=at(9))
    finally:
        await second.aclose()
