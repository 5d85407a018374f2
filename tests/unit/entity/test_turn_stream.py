"""The stream log writer of a turn: numbering, restarts, bounds, endings (on the memory log)."""

from __future__ import annotations

import json

import pytest
from agent_framework import AgentResponseUpdate, Content
from durableagent_models import CorrelationId, RunResult, SessionId

from durableagent.conversation.stream_base import StreamKey
from durableagent.conversation.stream_memory import MemoryStreamLog
from durableagent.entity.record import LedgerEntry
from durableagent.entity.turn_stream import StreamSettings, TurnStream

pytestmark = pytest.mark.anyio
KEY = StreamKey("A", "s", "c1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def text(word: str) -> AgentResponseUpdate:
    return AgentResponseUpdate(role="assistant", contents=[Content.from_text(word)])


def success(reply: str) -> LedgerEntry:
    result = RunResult(
        response=reply,
        message="hi",
        sessionId=SessionId("s"),
        status="success",
        message_count=1,
        correlationId=CorrelationId("c1"),
    )
    return LedgerEntry("fp", 200, turn=1, reply=result)


async def logged(log: MemoryStreamLog) -> list[dict[str, object]]:
    return [json.loads(e.data) for e in await log.read(KEY, 0, 10_000)]


async def test_a_turn_is_numbered_and_ends_with_its_reply() -> None:
    log = MemoryStreamLog()
    stream = TurnStream(log, KEY, StreamSettings())
    await stream.start(1, 1)
    for word in ("a ", "b"):
        await stream.update(text(word))
    await stream.finish(success("a b"), "s", 1)
    entries = await log.read(KEY, 0, 100)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    events = await logged(log)
    assert [e["type"] for e in events] == [
        "RUN_STARTED", "CUSTOM", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END", "RUN_FINISHED",
    ]  # fmt: skip
    assert entries[-1].terminal
    assert events[-1]["result"]["response"] == "a b"  # type: ignore[index]


async def test_a_new_attempt_discards_the_open_message_and_continues_the_ids() -> None:
    log = MemoryStreamLog()
    first = TurnStream(log, KEY, StreamSettings())
    await first.start(1, 1)
    await first.update(text("half "))
    await first.drain()  # the worker crashes here: no finish
    open_id = (await logged(log))[2]["messageId"]
    second = TurnStream(log, KEY, StreamSettings())
    await second.start(1, 2)
    await second.update(text("whole"))
    await second.finish(success("whole"), "s", 1)
    events = await logged(log)
    restart = next(e for e in events if e.get("name") == "durableagent.turn_restarted")
    assert restart["value"] == {"turn": 1, "attempt": 2, "discardMessageIds": [open_id], "reason": "attempt"}
    assert {"type": "TEXT_MESSAGE_END", "messageId": open_id} in events  # closed before the notice
    assert [e.seq for e in await log.read(KEY, 0, 100)] == list(range(1, len(events) + 1))
    third = TurnStream(log, KEY, StreamSettings())  # a crash after the ending: nothing is added
    await third.start(1, 3)
    await third.finish(success("whole"), "s", 1)
    assert len(await logged(log)) == len(events)


async def test_a_log_at_its_bound_is_truncated_but_still_ends() -> None:
    log = MemoryStreamLog()
    stream = TurnStream(log, KEY, StreamSettings(max_events=40))
    await stream.start(1, 1)
    for i in range(200):
        await stream.update(text(f"w{i} "))
    await stream.finish(success("long"), "s", 1)
    events = await logged(log)
    assert len(events) <= 40
    assert sum(e.get("name") == "durableagent.stream_truncated" for e in events) == 1
    assert events[-1]["type"] == "RUN_FINISHED"


async def test_a_retryable_failure_writes_no_ending() -> None:
    log = MemoryStreamLog()
    stream = TurnStream(log, KEY, StreamSettings())
    await stream.start(1, 1)
    problem = {"type": "https://durableagent.dev/problems/upstream-unavailable", "title": "t", "status": 503}
    await stream.finish(LedgerEntry("fp", 503, retryable=True, nonce="n", problem=problem), "s", 1)  # type: ignore[arg-type]
    assert not (await log.read(KEY, 0, 100))[-1].terminal
