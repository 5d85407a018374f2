"""The writer of a streamed turn's log: AG-UI events, numbered, batched, bounded, committed.

Why: the entity runs the turn; the routes that serve its stream only read the log
(``conversation/stream_base``). This writer is the one place that decides what goes into it and when:

* ``start`` (each attempt, once the attempt is counted): RUN_STARTED + ``durableagent.turn`` on an
  empty log; on a log an earlier attempt left unfinished, ``durableagent.turn_restarted`` naming the
  messages to discard (with their END events), so the text of two attempts is never silently mixed;
  a log that already ends in RUN_FINISHED/RUN_ERROR (a crash after it, before the commit) is left
  alone: the journalled turn answers the same.
* ``update`` (the agent's streaming updates): deltas, tool calls and results, appended in batches by
  one flush task: while one batch commits, the next accumulates. At most ``max_pending`` events
  wait; beyond that the model's stream waits for the store (never for a reader: readers only read).
* ``finish`` (the request's ledger entry is known, before the entity commits): the END events,
  the reply text when this attempt streamed none (a journalled turn), then RUN_FINISHED with the
  200 body or RUN_ERROR with the problem; a retryable failure writes no terminal event (the request
  may run again: the route answers its RUN_ERROR from the ledger). Then the retention clock starts.

A failed append is logged and ends the writing (the route still answers from the ledger); a log
that reaches ``MAX_EVENTS`` gets one ``durableagent.stream_truncated`` and then only its ending.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from ag_ui.core import BaseEvent, CustomEvent, TextMessageContentEvent
from agent_framework import AgentResponseUpdate

from durableagent.conversation.stream_base import (
    DEFAULT_RETENTION_SECONDS,
    MAX_EVENT_BYTES,
    MAX_EVENTS,
    StreamEntry,
    StreamKey,
    StreamLog,
)
from durableagent.entity import stream_events as ev
from durableagent.entity.record import LedgerEntry

logger = logging.getLogger("durableagent.turn")
_RESERVED = 16  # events kept free for a truncated log's ending


@dataclass(frozen=True)
class StreamSettings:
    """Bounds and retention of a turn's log."""

    retention_seconds: float = DEFAULT_RETENTION_SECONDS
    max_events: int = MAX_EVENTS
    max_pending: int = 256


def _open_items(entries: list[StreamEntry]) -> tuple[list[str], list[str]]:
    """Text messages and tool calls an unfinished log left open."""
    texts: list[str] = []
    tools: list[str] = []
    for entry in entries:
        data = json.loads(entry.data)
        kind, mid, tid = data.get("type"), data.get("messageId"), data.get("toolCallId")
        if kind == "TEXT_MESSAGE_START":
            texts.append(mid)
        elif kind == "TEXT_MESSAGE_END" and mid in texts:
            texts.remove(mid)
        elif kind == "TOOL_CALL_START":
            tools.append(tid)
        elif kind == "TOOL_CALL_END" and tid in tools:
            tools.remove(tid)
    return texts, tools


class TurnStream:
    """The log writer of one request's turn (one per ``run_agent`` operation)."""

    def __init__(self, log: StreamLog, key: StreamKey, settings: StreamSettings) -> None:
        """Write ``key``'s log in ``log``."""
        self.log, self.key, self.settings = log, key, settings
        self.mapper = ev.EventMapper()
        self.seq = 0
        self.started = self.done = self.broken = self.truncated = self.streamed_text = False
        self.pending: list[StreamEntry] = []
        self.flushing: asyncio.Task[None] | None = None

    async def start(self, turn: int, attempt: int) -> None:
        """Open the attempt's part of the log (see the module docstring)."""
        if self.started or self.broken:
            return
        self.started = True
        try:
            entries = await self._all()
        except Exception as exc:  # noqa: BLE001 - the stream never fails the turn
            self._break(exc)
            return
        if not entries:
            self._emit(ev.run_started(self.key.session, self.key.request_id, turn, attempt))
            return
        self.seq = entries[-1].seq
        if entries[-1].terminal:
            self.done = True
            return
        texts, tools = _open_items(entries)
        self._emit(self.mapper.close_given(texts, tools))
        self._emit([ev.restarted(turn, attempt, texts + tools, "attempt")])

    async def update(self, update: AgentResponseUpdate) -> None:
        """Append the events of one streaming update (waits only when the store lags far behind)."""
        if self.done or self.broken:
            return
        events = self.mapper.update(update)
        self.streamed_text = self.streamed_text or any(isinstance(e, TextMessageContentEvent) for e in events)
        self._emit(events)
        if len(self.pending) > self.settings.max_pending:
            await self.drain()

    def retrying(self) -> None:
        """The agent call is retried within this attempt: close what is open, say so."""
        if self.done or self.broken:
            return
        discard = self.mapper.open_ids()
        self._emit(self.mapper.close())
        self._emit([ev.restarted(0, 0, discard, "retry")])
        self.streamed_text = False

    async def finish(self, entry: LedgerEntry, session: str, turn: int) -> None:
        """End the log with the request's outcome (see the module docstring); waits for the commit."""
        if not self.started:
            await self.start(turn, 0)
        if self.done or self.broken:
            return
        self._emit(self.mapper.close())
        terminal: BaseEvent | None = None
        if entry.status == 200 and entry.reply is not None:
            reply = json.loads(entry.reply.model_dump_json())
            if not self.streamed_text:
                response = reply.get("response")
                text = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
                self._emit(ev.text_message(text))
            terminal = ev.run_finished(session, self.key.request_id, reply)
        elif entry.problem is not None and not entry.retryable:
            terminal = ev.run_error(entry.problem)
        if terminal is not None:
            self._emit([terminal], force=True)
        await self.drain()
        if terminal is not None and not self.broken:
            try:
                await self.log.finish(self.key, self.settings.retention_seconds)
            except Exception as exc:  # noqa: BLE001 - retention is housekeeping
                logger.warning(
                    "stream log of %s not marked finished (%s)", self.key.request_id, type(exc).__name__
                )

    async def drain(self) -> None:
        """Wait until every emitted event is committed (or the writing broke)."""
        while self.flushing is not None and not self.flushing.done():
            await asyncio.shield(self.flushing)

    async def _all(self) -> list[StreamEntry]:
        out: list[StreamEntry] = []
        while True:
            page = await self.log.read(self.key, out[-1].seq if out else 0, 1000)
            if not page:
                return out
            out.extend(page)

    def _emit(self, events: list[BaseEvent], *, force: bool = False) -> None:
        for event in events:
            data = ev.event_json(event)
            terminal = event.type.value in ev.TERMINAL_TYPES
            if len(data) > MAX_EVENT_BYTES:
                data = self._shrink(event, data)
            if not force and self.seq >= self.settings.max_events - _RESERVED:
                if not self.truncated:
                    self.truncated = True
                    notice = CustomEvent(name=ev.TRUNCATED, value={"maxEvents": self.settings.max_events})
                    self._append(ev.event_json(notice), False)
                continue
            self._append(data, terminal)
        if self.pending and (self.flushing is None or self.flushing.done()):
            self.flushing = asyncio.ensure_future(self._flush())

    def _append(self, data: str, terminal: bool) -> None:
        self.seq += 1
        self.pending.append(StreamEntry(self.seq, data, terminal))

    @staticmethod
    def _shrink(event: BaseEvent, data: str) -> str:
        """An event too large for one log row: the result of RUN_FINISHED is left out (GET the turn)."""
        if event.type.value == "RUN_FINISHED":
            return ev.event_json(event.model_copy(update={"result": {"truncated": True}}))
        return data[:0] or ev.event_json(
            CustomEvent(name=ev.TRUNCATED, value={"maxEventBytes": MAX_EVENT_BYTES})
        )

    async def _flush(self) -> None:
        while self.pending and not self.broken:
            batch, self.pending = self.pending, []
            try:
                await self.log.append(self.key, batch)
            except Exception as exc:  # noqa: BLE001 - the stream never fails the turn
                self._break(exc)

    def _break(self, exc: BaseException) -> None:
        self.broken = True
        self.pending = []
        logger.warning("stream log of %s stopped (%s)", self.key.request_id, type(exc).__name__)
