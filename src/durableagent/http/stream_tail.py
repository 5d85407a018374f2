"""Serve a turn's stream: replay its log after the client's last event, then tail it to the end.

Why: the log (``conversation/stream_base``) is the stream; this module turns it into SSE frames for
one connection. Exactly-once resumption: frames carry the log's ``seq`` as their ``id``, and a
reconnect names the last one it saw (``Last-Event-ID``), so the replay starts right after it.

Waiting: a reader subscribes to the key's wake-ups (``stream_hub``) before each read, so an append
committed in this process wakes it at once; without one (another instance runs the turn) it polls
with backoff (:data:`POLL_MIN` doubling to :data:`POLL_MAX`). A slow client only slows its own
connection: the reader pulls pages from the store at the pace the socket takes them, and nothing
waits on it.

The end: the log's RUN_FINISHED/RUN_ERROR. The entity writes it just before its state commits, so
it is sent only once the ledger has the answer (``settle``): a client that saw RUN_FINISHED finds
the turn's result at ``GET .../turns/{id}``. When the ledger has the request's answer but the log has
no ending (the turn was not streamed, its log was trimmed, or the failure is retryable), the ending
is built from the ledger with the next ids (and, for a log with nothing after the client's event,
the reply as one text message). ``DURABLEAGENT_STREAM_CONNECTION_EVENTS`` ends a connection after
that many events (for proxies that keep connections short; the client resumes).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ag_ui.core import BaseEvent

from durableagent.conversation import stream_hub
from durableagent.conversation.stream_base import StreamEntry, StreamKey, StreamLog
from durableagent.entity import stream_events as ev
from durableagent.entity.loop import run_async
from durableagent.http.replies import Answer
from durableagent.http.sse import KEEPALIVE, RETRY, frame

POLL_MIN, POLL_MAX = 0.25, 2.0
KEEPALIVE_SECONDS = 15.0
PAGE = 256
CONNECTION_EVENTS_ENV = "DURABLEAGENT_STREAM_CONNECTION_EVENTS"
Probe = Callable[[], Awaitable[Answer | None]]
ReplyOf = Callable[[Answer], Awaitable[dict[str, object]]]


@dataclass(frozen=True)
class Tail:
    """One connection's view of a turn's stream."""

    log: StreamLog
    key: StreamKey
    after: int  # the client's Last-Event-ID (0: from the start)
    probe: Probe  # the request's final ledger entry, or None while it runs
    reply_of: ReplyOf  # the 200 body of a finished turn (from the ledger or the transcript)
    settle: Callable[[], Awaitable[object]]  # waits until the turn's answer is committed


def connection_cap() -> int:
    """Events per connection before the server ends it (0: no cap)."""
    value = os.environ.get(CONNECTION_EVENTS_ENV, "").strip()
    return int(value) if value.isdigit() else 0


async def frames(tail: Tail) -> AsyncIterator[bytes]:
    """The SSE frames of ``tail``: the log after ``tail.after``, then new events, until the end."""
    cursor, sent, cap = tail.after, 0, connection_cap()
    delay, idle = POLL_MIN, 0.0
    yield RETRY
    while True:
        with stream_hub.subscribe(tail.key) as waiter:
            entries = await _read(tail, cursor)
            for entry in entries:
                if entry.terminal:
                    await tail.settle()
                yield frame(entry.seq, entry.data)
                cursor, sent = entry.seq, sent + 1
                if entry.terminal or (cap and sent >= cap):
                    return
            if entries:
                delay, idle = POLL_MIN, 0.0
                continue
            answer = await tail.probe()
            if answer is not None:
                async for chunk in _ending(tail, answer, cursor):
                    yield chunk
                return
            woken = await waiter.wait(delay)
        if not woken:
            idle += delay
            delay = min(delay * 2, POLL_MAX)
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield KEEPALIVE


async def _read(tail: Tail, cursor: int) -> list[StreamEntry]:
    """The next page: on this loop when the log allows it (no thread hop), else on the agent loop."""
    if tail.log.any_loop:
        return await tail.log.read(tail.key, cursor, PAGE)
    return await run_async(tail.log.read(tail.key, cursor, PAGE))


async def _ending(tail: Tail, answer: Answer, cursor: int) -> AsyncIterator[bytes]:
    """The end of a stream whose log has none: re-read the log once (it may have just ended)."""
    rest = await _read(tail, cursor)
    for logged in rest:
        if logged.terminal:
            await tail.settle()
        yield frame(logged.seq, logged.data)
        cursor = logged.seq
        if logged.terminal:
            return
    last: StreamEntry | None = rest[-1] if rest else await run_async(tail.log.last(tail.key))
    seq = max(cursor, last.seq if last is not None else 0)
    entry, record = answer
    events: list[BaseEvent] = []
    if last is None and cursor == 0:
        events.extend(ev.run_started(record.session, tail.key.request_id, entry.turn or record.turns, 0))
    if entry.succeeded:
        reply = await tail.reply_of(answer)
        if last is None:
            response = reply.get("response")
            text = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
            events.extend(ev.text_message(text))
        events.append(ev.run_finished(record.session, tail.key.request_id, reply))
    else:
        events.append(ev.run_error(entry.problem_instance().to_record()))
    for event in events:
        seq += 1
        yield frame(seq, ev.event_json(event))
