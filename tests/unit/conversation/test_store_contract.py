"""The ConversationStore contract: the same assertions against every backend (see conftest.BACKENDS)."""

from __future__ import annotations

import asyncio

import pytest
from turn_records import record

from durableagent.conversation import (
    ConversationStore,
    RecordTooLargeError,
    SessionRef,
    base,
)

pytestmark = pytest.mark.anyio

REF = SessionRef("WeatherAgent", "user-123", "9f2c0a1b2c3d4e5f")


async def test_append_then_read_back(store: ConversationStore) -> None:
    written = record(1, value={"city": "Zürich", "temps": [1.5, -2], "ok": True})
    await store.append_turn(REF, written)
    assert await store.get_turn(REF, 1) == written
    assert await store.load_turns(REF, 1, 1) == [written]
    assert await store.get_turn(REF, 2) is None


async def test_append_is_an_upsert_last_write_wins(store: ConversationStore) -> None:
    await store.append_turn(REF, record(1, "orphan of a crashed attempt"))
    redelivered = record(1, "the redelivered turn")
    await store.append_turn(REF, redelivered)
    assert await store.load_turns(REF, 1, 10) == [redelivered]


async def test_load_turns_is_inclusive_ordered_and_skips_gaps(store: ConversationStore) -> None:
    for turn in (100, 2, 10, 1, 3, 11):
        await store.append_turn(REF, record(turn))
    assert [r.turn for r in await store.load_turns(REF, 1, 1000)] == [1, 2, 3, 10, 11, 100]
    assert [r.turn for r in await store.load_turns(REF, 2, 10)] == [2, 3, 10]
    assert [r.turn for r in await store.load_turns(REF, 4, 9)] == []
    assert await store.load_turns(REF, 5, 4) == []
    assert [r.turn for r in await store.load_turns(REF, -5, 1)] == [1]


async def test_pages_of_a_long_transcript(store: ConversationStore) -> None:
    await asyncio.gather(*(store.append_turn(REF, record(turn)) for turn in range(1, 251)))
    assert [r.turn for r in await store.load_turns(REF, 1, 250)] == list(range(1, 251))
    assert [r.turn for r in await store.load_turns(REF, 101, 150)] == list(range(101, 151))


async def test_keys_are_isolated(store: ConversationStore) -> None:
    refs = [
        REF,
        SessionRef(REF.agent, REF.session, "9f2c0a1b2c3d4e5"),  # a prefix of REF's incarnation
        SessionRef(REF.agent, REF.session, "9f2c0a1b2c3d4e5f-0"),  # REF's incarnation as a prefix
        SessionRef(REF.agent, "user-1234", REF.incarnation),
        SessionRef("a", "b-c", "x"),
        SessionRef("a-b", "c", "x"),
    ]
    for index, ref in enumerate(refs):
        await store.append_turn(ref, record(1, f"text {index}"))
        await store.append_turn(ref, record(2, f"text {index}"))
    for index, ref in enumerate(refs):
        assert [r.user["contents"][0]["text"] for r in await store.load_turns(ref, 1, 5)] == [
            f"text {index}"
        ] * 2


async def test_ledger_counts_attempts_and_tracks_state(store: ConversationStore) -> None:
    agent, session = REF.agent, REF.session
    assert await store.request_state(agent, session, "c-1") is None
    await store.mark_accepted(agent, session, "c-1")
    assert await store.request_state(agent, session, "c-1") == "accepted"
    assert await store.begin_attempt(agent, session, "c-1") == 1
    assert await store.request_state(agent, session, "c-1") == "running"
    await store.mark_accepted(agent, session, "c-1")  # already has a state: no change
    assert await store.request_state(agent, session, "c-1") == "running"
    assert await store.begin_attempt(agent, session, "c-1") == 2
    assert await store.begin_attempt(agent, session, "c-1") == 3
    assert await store.begin_attempt(agent, session, "c.2:x_y-z") == 1
    assert await store.begin_attempt(agent, "other", "c-1") == 1
    await store.forget_request(agent, session, "c-1")
    await store.forget_request(agent, session, "never-seen")
    assert await store.request_state(agent, session, "c-1") is None
    assert await store.request_state(agent, session, "c.2:x_y-z") == "running"
    assert await store.begin_attempt(agent, session, "c-1") == 1


async def test_concurrent_attempts_never_lose_an_increment(store: ConversationStore) -> None:
    counts = await asyncio.gather(*(store.begin_attempt(REF.agent, REF.session, "c-9") for _ in range(8)))
    assert sorted(counts) == list(range(1, 9))


async def test_drop_session_removes_every_incarnation_and_the_ledger(store: ConversationStore) -> None:
    old = SessionRef(REF.agent, REF.session, "old")
    other = SessionRef(REF.agent, "someone-else", REF.incarnation)
    await asyncio.gather(*(store.append_turn(REF, record(turn)) for turn in range(1, 131)))
    await store.append_turn(old, record(1))
    await store.append_turn(other, record(1))
    await store.begin_attempt(REF.agent, REF.session, "c-1")
    await store.mark_accepted(REF.agent, REF.session, "c-2")
    await store.begin_attempt(other.agent, other.session, "c-1")
    await store.drop_session(REF.agent, REF.session)
    assert await store.load_turns(REF, 1, 1000) == []
    assert await store.load_turns(old, 1, 10) == []
    assert await store.request_state(REF.agent, REF.session, "c-1") is None
    assert await store.request_state(REF.agent, REF.session, "c-2") is None
    assert len(await store.load_turns(other, 1, 10)) == 1
    assert await store.request_state(other.agent, other.session, "c-1") == "running"
    await store.drop_session(REF.agent, REF.session)  # idempotent
    await store.drop_session(REF.agent, "never-existed")


async def test_a_200_kib_record_round_trips_byte_for_byte(store: ConversationStore) -> None:
    # Mixed widths: ASCII, 2- and 3-byte UTF-8, astral (surrogate pairs in UTF-16), escapes.
    unit = 'plain ascii "quoted" \\ \n\t é ü 漢字 😀🚀 \u2028 '
    text = (unit * (200 * 1024 // len(unit.encode("utf-8")) + 1))[: 100 * 1024]
    big = record(7, text, value={"blob": text[::-1]})
    assert len(big.to_json().encode("utf-8")) > 200 * 1024
    await store.append_turn(REF, big)
    back = await store.get_turn(REF, 7)
    assert back is not None
    assert back.to_json() == big.to_json()
    assert await store.load_turns(REF, 7, 7) == [big]


async def test_lone_surrogates_survive(store: ConversationStore) -> None:
    odd = record(1, "broken \ud800 pair \udfff end")
    await store.append_turn(REF, odd)
    assert await store.get_turn(REF, 1) == odd


async def test_a_record_over_the_store_limit_is_refused_not_truncated(
    store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_STORED_RECORD_BYTES", 2 * 1024 * 1024)  # the real one is 64 MiB
    await store.append_turn(REF, record(1, "small"))
    huge = record(1, "x" * (2 * 1024 * 1024))
    with pytest.raises(RecordTooLargeError, match=r"turn 1 is .* at most"):
        await store.append_turn(REF, huge)
    assert await store.get_turn(REF, 1) == record(1, "small")


async def test_a_5_mb_turn_is_stored_and_read_back_whole(store: ConversationStore) -> None:
    """Far over an Azure Table entity (1 MiB) and property (64 KiB): on Azure it goes to a blob."""
    text = ("reply 漢字 😀 " * 500_000)[:2_600_000]  # with the reply's copy: > 5 MB of UTF-8 JSON
    big = record(2, text)
    assert len(big.to_json().encode()) > 5_000_000
    await store.append_turn(REF, record(1, "small"))
    await store.append_turn(REF, big)
    await store.append_turn(REF, record(3, "after"))
    assert await store.get_turn(REF, 2) == big
    assert await store.load_turns(REF, 1, 3) == [record(1, "small"), big, record(3, "after")]
    await store.append_turn(REF, record(2, "replaced by a small one"))  # a redelivered, smaller turn
    assert await store.get_turn(REF, 2) == record(2, "replaced by a small one")
    await store.append_turn(REF, big)
    await store.drop_session(REF.agent, REF.session)
    assert await store.load_turns(REF, 1, 3) == []
    await store.append_turn(REF, record(1, "a new life"))
    assert await store.load_turns(REF, 1, 3) == [record(1, "a new life")]


async def test_failed_turn_records(store: ConversationStore) -> None:
    failed = record(
        1,
        reply=None,
        role="system",
        error={"type": "https://durableagent.dev/problems/x", "title": "X", "status": 502},
    )
    await store.append_turn(REF, failed)
    assert await store.get_turn(REF, 1) == failed


async def test_invalid_keys_are_refused_before_any_io(store: ConversationStore) -> None:
    for agent, session, request_id in [("a/b", "s", "r"), ("a", "s#", "r"), ("a", "s", "r?"), ("", "s", "r")]:
        with pytest.raises(ValueError, match="must match"):
            await store.begin_attempt(agent, session, request_id)
    with pytest.raises(ValueError, match="must match"):
        await store.drop_session("a", "x" * 129)


async def test_aclose_is_idempotent(store: ConversationStore) -> None:
    await store.append_turn(REF, record(1))
    await store.aclose()
    await store.aclose()


async def test_is_a_conversation_store(store: ConversationStore) -> None:
    assert isinstance(store, ConversationStore)
