"""The stream log's contract, on every backend (memory, SQLite, Azure Table storage on Azurite).

What the routes rely on: entries come back in ``seq`` order after any cursor, an append is an
upsert (a retried append does not duplicate), ``last`` is the newest entry, logs of different turns
never mix, appends wake this process's readers, and a finished log is trimmed once its retention
has passed (and not before).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from durableagent.conversation import ConversationStore, stream_hub
from durableagent.conversation.stream_base import StreamEntry, StreamKey
from durableagent.conversation.streams import stream_log_of

pytestmark = pytest.mark.anyio
KEY = StreamKey("WeatherAgent", "user-123", "req-1")
OTHER = StreamKey("WeatherAgent", "user-123", "req-2")


def entries(first: int, last: int, *, terminal_last: bool = False) -> list[StreamEntry]:
    return [
        StreamEntry(seq, f'{{"type":"CUSTOM","n":{seq}}}', terminal_last and seq == last)
        for seq in range(first, last + 1)
    ]


async def test_reads_after_any_cursor_in_order(store: ConversationStore) -> None:
    log = stream_log_of(store)
    await log.append(KEY, entries(1, 150))  # more than one Azure entity group transaction
    await log.append(KEY, entries(151, 160, terminal_last=True))
    assert [e.seq for e in await log.read(KEY, 0, 1000)] == list(range(1, 161))
    assert [e.seq for e in await log.read(KEY, 57, 5)] == [58, 59, 60, 61, 62]
    assert await log.read(KEY, 160, 10) == []
    last = await log.last(KEY)
    assert last is not None
    assert (last.seq, last.terminal) == (160, True)
    assert (await log.read(KEY, 0, 1))[0].data == '{"type":"CUSTOM","n":1}'


async def test_append_is_an_upsert_and_turns_do_not_mix(store: ConversationStore) -> None:
    log = stream_log_of(store)
    await log.append(KEY, entries(1, 3))
    await log.append(KEY, entries(2, 4))  # a retried append, overlapping
    await log.append(OTHER, entries(1, 2))
    assert [e.seq for e in await log.read(KEY, 0, 100)] == [1, 2, 3, 4]
    assert [e.seq for e in await log.read(OTHER, 0, 100)] == [1, 2]
    assert await log.last(StreamKey("WeatherAgent", "user-123", "req-3")) is None


async def test_an_append_wakes_a_reader_of_its_key(store: ConversationStore) -> None:
    log = stream_log_of(store)
    with stream_hub.subscribe(KEY) as waiter, stream_hub.subscribe(OTHER) as other:
        await log.append(KEY, entries(1, 1))
        assert await waiter.wait(30)
        assert not await other.wait(0.05)


async def test_a_finished_log_is_trimmed_after_its_retention(
    store: ConversationStore, make_store: Callable[[], ConversationStore]
) -> None:
    log = stream_log_of(store)
    if hasattr(log, "trim_interval"):
        log.trim_interval = 0.0
    await log.append(KEY, entries(1, 5, terminal_last=True))
    await log.append(OTHER, entries(1, 5, terminal_last=True))
    await log.finish(OTHER, 3600)  # kept an hour
    await log.finish(KEY, 0.0)  # may go at once
    await log.finish(StreamKey("WeatherAgent", "u2", "req-9"), 3600)  # any finish trims
    assert await log.read(KEY, 0, 10) == []
    assert len(await log.read(OTHER, 0, 10)) == 5
