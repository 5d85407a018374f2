"""A turn's commit protocol: run the agent once, write the turn once, commit the record once.

The Durable SDK (1.x, Python) does not roll entity state back when an operation raises, and a
batch interrupted by a crash is delivered again. So a turn:

1. answers from the request ledger when the request id is already final (duplicate delivery or an
   idempotent retry): nothing runs again;
2. checks ``If-Match`` against the session's ETag;
3. reuses turn *n* from the transcript when a crashed attempt already wrote it (the journal, looked
   up only from the second attempt on), so a crash between writing the transcript and committing the
   entity does not call the model twice;
4. otherwise (the attempt is counted durably first: a turn that keeps crashing the worker is
   recorded as poisoned after ``max_attempts``) runs the agent, and writes turn *n* (idempotent
   upsert);
5. returns a new ``SessionRecord``; the host commits it with the batch. Nothing is mutated before
   that point, so a failure leaves the state exactly as it was (plus at most one error turn).

Every request ends with an entry in the ledger, even when the turn logic itself fails (a reply too
large to store, a bug): an exception would fail the operation silently, and its caller would wait
for an answer that never comes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from agent_framework import Message

from durableagent import _faults
from durableagent.callbacks import AgentCallbackContext
from durableagent.contract.problems import (
    InternalError,
    PreconditionFailed,
    Problem,
    ReplyTooLarge,
    RoleNotAllowed,
    StoreUnavailable,
    TurnPoisoned,
    from_record,
)
from durableagent.contract.turn_problems import TurnCancelled, TurnDiscarded
from durableagent.conversation.base import (
    RecordTooLargeError,
    SessionRef,
    StoreUnavailableError,
    TurnRecord,
    check_turn_size,
    utc_now,
)
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.conversation.stream_base import StreamKey
from durableagent.conversation.streams import stream_log_of
from durableagent.entity.agent_call import call_agent, model_context
from durableagent.entity.failures import classify, is_retryable
from durableagent.entity.history import HistoryCache
from durableagent.entity.loop import cancel_scope, is_cancel, marked
from durableagent.entity.record import LedgerEntry, SessionRecord
from durableagent.entity.registration import AgentRegistration
from durableagent.entity.structured import check_structured
from durableagent.entity.turn_io import RunOperation, reply_text, run_result
from durableagent.entity.turn_stream import StreamSettings, TurnStream
from durableagent.logs import THROTTLE

logger = logging.getLogger("durableagent.turn")
# (the written turn, its problem, its reply text when known); (None, problem, None): transient.
Outcome = tuple[TurnRecord | None, Problem | None, str | None]


def _entry(op: RunOperation, problem: Problem, *, turn: int | None = None, retryable: bool) -> LedgerEntry:
    return LedgerEntry(
        fingerprint=op.fingerprint,
        status=problem.status,
        turn=turn,
        retryable=retryable,
        nonce=op.nonce if retryable else None,
        problem=problem.to_record(),
    )


class TurnRunner:
    """Runs ``run_agent`` operations for one agent."""

    def __init__(
        self, registration: AgentRegistration, store: ConversationStore, cache: HistoryCache
    ) -> None:
        """Run turns of ``registration`` against ``store``, with histories cached in ``cache``."""
        self.reg = registration
        self.store = store
        self.cache = cache
        self.streams = StreamSettings(retention_seconds=registration.call.stream_retention)

    async def run(
        self, record: SessionRecord | None, session: str, op: RunOperation
    ) -> tuple[SessionRecord, LedgerEntry]:
        """Apply one ``run_agent`` operation; returns the new record and the request's ledger entry."""
        record = (
            replace(record)
            if record is not None
            else SessionRecord.new(self.reg.name, session, op.correlation_id)
        )
        before = replace(record, requests=dict(record.requests))  # what a failed turn leaves behind
        stream = (
            TurnStream(
                stream_log_of(self.store), StreamKey(self.reg.name, session, op.correlation_id), self.streams
            )
            if op.stream
            else None
        )
        result = await self._guarded(record, before, session, op, stream)
        if stream is not None:
            await stream.finish(result[1], session, result[1].turn or result[0].turns + 1)
        return result

    async def _guarded(
        self,
        record: SessionRecord,
        before: SessionRecord,
        session: str,
        op: RunOperation,
        stream: TurnStream | None,
    ) -> tuple[SessionRecord, LedgerEntry]:
        try:
            return await self._run(record, session, op, stream)
        except StoreUnavailableError:
            THROTTLE.log(
                logger,
                logging.WARNING,
                "turn-store",
                "conversation store unavailable during turns of %s",
                self.reg.name,
            )
            problem = StoreUnavailable(
                "The conversation store is temporarily unavailable; retry the request.", retry_after=5
            )
            return self._remember(record, op, _entry(op, problem, retryable=True))
        except Exception as exc:  # noqa: BLE001 - a request must always get an answer in the ledger
            # Without one, the route waits out its wait cap and the Location answers 202 for ever.
            logger.error(
                "turn %s of %s could not be completed: %s",
                op.correlation_id,
                self.reg.name,
                type(exc).__name__,
            )
            if isinstance(exc, RecordTooLargeError):  # nothing of the turn was written
                too_large = ReplyTooLarge("The turn's reply and tool results are too large to be stored.")
                return self._remember(before, op, _entry(op, too_large, retryable=False))
            detail = "The turn could not be completed. See the app's logs for the correlation id."
            return self._remember(before, op, _entry(op, InternalError(detail), retryable=False))

    async def _run(
        self, record: SessionRecord, session: str, op: RunOperation, stream: TurnStream | None
    ) -> tuple[SessionRecord, LedgerEntry]:
        known = record.entry(op.correlation_id)
        if known is not None and (known.fingerprint != op.fingerprint or not known.retryable):
            return record, known
        if op.role not in self.reg.allowed_roles:
            refused = RoleNotAllowed(f"This app does not accept messages with role '{op.role}'.")
            return self._remember(record, op, _entry(op, refused, retryable=False))
        if op.if_match is not None and op.if_match != record.etag:
            stale = PreconditionFailed("If-Match does not match the session's current ETag; read it again.")
            return self._remember(record, op, _entry(op, stale, retryable=True))
        turn = record.turns + 1
        ref = SessionRef(self.reg.name, session, record.incarnation)
        last = record.last_request()
        if last is not None and not last[1].retryable:
            # committed and final: its ledger row (attempts, "running") has served its purpose
            await self.store.forget_request(self.reg.name, session, last[0])
        attempts = await self.store.begin_attempt(self.reg.name, session, op.correlation_id)
        # Read after "running" is durable: a cancel that still saw the turn queued is seen here.
        mark = await marked(self.store, self.reg.name, session, op.correlation_id)
        if mark == "discarded":  # accepted before a reset of the session: never run in its new life
            gone = TurnDiscarded("The session was reset after this turn was accepted; send it again.")
            return self._remember(record, op, _entry(op, gone, retryable=False))
        if stream is not None:
            await stream.start(turn, attempts)
        # Only an earlier attempt of this request can have written turn n (the journal).
        written = await self.store.get_turn(ref, turn) if attempts > 1 else None
        if written is not None and written.request_id == op.correlation_id:  # the journal: reuse it
            outcome: Outcome = (
                written,
                (from_record(written.error) if written.error is not None else None),
                None,
            )
            self.cache.forget(ref)
        else:
            outcome = await self._attempt(ref, turn, op, attempts, stream, cancelled=mark == "cancel")
        done, problem, text = outcome
        if done is None:  # transient failure: nothing recorded, the request may be retried
            assert problem is not None
            return self._remember(record, op, _entry(op, problem, retryable=True))
        record.turns = turn
        if problem is not None:
            return self._remember(record, op, _entry(op, problem, turn=turn, retryable=False))
        text = reply_text(done) if text is None else text
        record.last_response = json.dumps(done.value, ensure_ascii=False) if done.value is not None else text
        reply = run_result(done, session, structured=op.response_schema is not None, text=text)
        return self._remember(record, op, LedgerEntry(op.fingerprint, 200, turn=turn, reply=reply))

    @staticmethod
    def _remember(
        record: SessionRecord, op: RunOperation, entry: LedgerEntry
    ) -> tuple[SessionRecord, LedgerEntry]:
        record.remember(op.correlation_id, entry)
        return record, entry

    async def _attempt(
        self,
        ref: SessionRef,
        turn: int,
        op: RunOperation,
        attempts: int,
        stream: TurnStream | None,
        *,
        cancelled: bool = False,
    ) -> Outcome:
        started = utc_now()
        user = Message(role=op.role, contents=[op.message])
        if cancelled:  # cancelled while queued: recorded once, never run
            stopped = TurnCancelled("The turn was cancelled before it ran.")
            return await self._write(ref, op, turn, user, started, problem=stopped), stopped, None
        if attempts > self.reg.max_attempts:
            logger.error(
                "turn %s of %s poisoned after %d attempts", op.correlation_id, self.reg.name, attempts - 1
            )
            poisoned = TurnPoisoned("This turn failed repeatedly while running and was abandoned.")
            return await self._write(ref, op, turn, user, started, problem=poisoned), poisoned, None
        history = await model_context(await self.cache.history(self.store, ref, turn - 1), self.reg.context)
        options: dict[str, Any] = {}
        if not op.enable_tool_calls:
            options["tool_choice"] = "none"
        if op.response_schema is not None:
            options["response_format"] = dict(op.response_schema)
        context = AgentCallbackContext(self.reg.name, op.correlation_id, ref.session, op.message)
        if _faults.ARMED:
            _faults.crash_point("turn.before_model")
        try:
            scope = cancel_scope(self.store, self.reg.name, ref.session, op.correlation_id)
            result = await call_agent(self.reg, user, history, ref.session, options, context, stream, scope)
        except Exception as exc:  # noqa: BLE001 - every failure of the agent is classified into a problem
            problem = (
                TurnCancelled("The turn was cancelled while it ran.") if is_cancel(exc) else classify(exc)
            )
            logger.warning(
                "turn %s of %s failed: %s -> %s",
                op.correlation_id,
                self.reg.name,
                type(exc).__name__,
                problem.slug,
            )
            if is_retryable(problem):  # the attempt ended without a crash: it does not count toward poisoning
                await self.store.forget_request(self.reg.name, ref.session, op.correlation_id)
                return None, problem, None
            return await self._write(ref, op, turn, user, started, problem=problem), problem, None
        if _faults.ARMED:
            _faults.crash_point("turn.after_model")
        value, invalid = None, None
        if op.response_schema is not None:
            value, invalid = await check_structured(result.response, op.response_schema)
        reply = result.response.to_dict()
        new_messages = result.new_messages if invalid is None else []
        written = await self._write(ref, op, turn, user, started, reply, value, invalid, new_messages)
        return written, invalid, result.response.text

    async def _write(
        self,
        ref: SessionRef,
        op: RunOperation,
        turn: int,
        user: Message,
        started: str,
        reply: dict[str, Any] | None = None,
        value: Any = None,
        problem: Problem | None = None,
        new_messages: list[Message] | None = None,
    ) -> TurnRecord:
        """Write turn ``turn`` (idempotently) and extend the cached history with what the model saw."""
        record = TurnRecord(
            turn=turn,
            request_id=op.correlation_id,
            role=op.role,
            user=user.to_dict(),
            reply=reply,
            value=value,
            error=dict(problem.to_record()) if problem is not None else None,
            started_at=started,
            completed_at=utc_now(),
        )
        check_turn_size(record, self.reg.max_reply_bytes)  # ReplyTooLargeError: nothing written
        await self.store.append_turn(ref, record)
        if _faults.ARMED:
            _faults.crash_point("turn.after_transcript")
        self.cache.advance(ref, turn, new_messages or [])
        return record
