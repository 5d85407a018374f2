"""The history cache: used only when it covers exactly the committed turns, and bounded in memory."""

from __future__ import annotations

from agent_framework import AgentResponse, Message

from durableagent.conversation.base import SessionRef, TurnRecord
from durableagent.conversation.memory import MemoryConversationStore
from durableagent.entity.history import MESSAGE_OVERHEAD, HistoryCache

from .conftest import run


def _turn(n: int, text: str = "x") -> TurnRecord:
    reply = AgentResponse(messages=[Message(role="assistant", contents=[f"r{n}"])]).to_dict()
    return TurnRecord(
        turn=n,
        request_id=f"c{n}",
        role="user",
        user=Message(role="user", contents=[text]).to_dict(),
        reply=reply,
        value=None,
        error=None,
        started_at="t",
        completed_at="t",
    )


def _store_with(ref: SessionRef, turns: int, text: str = "x") -> MemoryConversationStore:
    store = MemoryConversationStore()
    for n in range(1, turns + 1):
        run(store.append_turn(ref, _turn(n, text)))
    return store


def test_a_cached_history_is_used_only_for_the_committed_turn_count() -> None:
    ref = SessionRef("A", "s", "inc1")
    store = _store_with(ref, 3)
    cache = HistoryCache()
    first = run(cache.history(store, ref, 2))
    assert [m.text for m in first] == ["x", "r1", "x", "r2"]
    cache.advance(ref, 3, [Message(role="user", contents=["x"]), Message(role="assistant", contents=["r3"])])
    assert run(cache.history(store, ref, 3)) is first  # reused, extended in place
    assert [m.text for m in run(cache.history(store, ref, 2))] == ["x", "r1", "x", "r2"]  # reloaded


def test_the_cache_is_bounded_by_memory_and_sessions() -> None:
    big = "y" * 10_000
    cache = HistoryCache(max_sessions=3, max_bytes=2 * (2 * MESSAGE_OVERHEAD + 10_000 + 2))
    refs = [SessionRef("A", f"s{i}", "inc") for i in range(4)]
    for ref in refs:
        run(cache.history(_store_with(ref, 1, big), ref, 1))
    sessions, size = cache.size
    assert sessions == 2
    assert size <= 2 * (2 * MESSAGE_OVERHEAD + 10_000 + 2)
    small = HistoryCache(max_sessions=3)
    for ref in refs:
        run(small.history(_store_with(ref, 1), ref, 1))
    assert small.size[0] == 3
