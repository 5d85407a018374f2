"""A turn's commit protocol: run the agent once, write the turn once, commit the record once.

The Durable SDK (1.x, Python) does not roll entity state back when an operation raises, and a
batch interrupted by a crash is delivered again. So a turn:

1. answers from the request ledger when the request id is already final (duplicate delivery or an
   idempotent retry): nothing runs again;
2. checks ``If-Match`` against the session's ETag;
3. reuses turn *n* from the transcript when a crashed attempt already wrote it (the journal), so a
   crash between writing the transcript and committing the entity does not call the model twice;
4. otherwise counts the attempt durably (a turn that keeps crashing the worker is recorded as
   poisoned after ``max_attempts``), runs the agent, and writes turn *n* (idempotent upsert);
5. returns a new ``SessionRecord``; the host commits it with the batch. Nothing is mutated before
   that point, so a failure leaves the state exactly as it was (plus at most one error turn).

Every request ends with an entry in the ledger, even when the turn logic itself fails (a reply too
large to store, a bug): an exception would fail the operation silently, and its caller would wait
for an answer that never comes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from agent_framework import Message, SupportsAgentRun

from durableagent._faults import crash_point
from durableagent.callbacks import AgentCallbackContext, AgentResponseCallbackProtocol
from durableagent.contract.problems import (
    InternalError,
    PreconditionFailed,
    Problem,
    RoleNotAllowed,
    StoreUnavailable,
    TurnPoisoned,
)
from durableagent.conversation.base import (
    ConversationStore,
    RecordTooLargeError,
    SessionRef,
    StoreUnavailableError,
    TurnRecord,
)
from durableagent.entity.agent_call import CallSettings, call_agent
from durableagent.entity.failures import classify, is_retryable
from durableagent.entity.history import HistoryCache
from durableagent.entity.operation import RunOperation
from durableagent.entity.record import SessionRecord
from durableagent.entity.replies import problem_record, reply_text, run_result
from durableagent.entity.state import utc_now
from durableagent.entity.structured import check_structured, parse_value

logger = logging.getLogger("durableagent.turn")


@dataclass(frozen=True)
class AgentRegistration:
    """An agent as the entity runs it."""

    name: str
    agent: SupportsAgentRun
    callback: AgentResponseCallbackProtocol | None = None
    uses_provider: bool = False
    allowed_roles: frozenset[str] = frozenset({"user"})
    max_attempts: int = 3
    call: CallSettings = field(default_factory=CallSettings)


def _entry(
    op: RunOperation,
    status: int,
    *,
    turn: int | None,
    retryable: bool,
    reply: dict[str, Any] | None = None,
    problem: Problem | None = None,
) -> dict[str, Any]:
    # Compact: the ledger is part of the entity state, rewritten on every batch; absent keys read
    # as None/False. Only a retryable entry needs the nonce of the request it answers.
    entry: dict[str, Any] = {"fp": op.fingerprint, "status": status}
    if turn is not None:
        entry["turn"] = turn
    if retryable:
        entry["retryable"] = True
        entry["nonce"] = op.nonce
    if reply is not None:
        entry["reply"] = reply
    if problem is not None:
        entry["problem"] = problem_record(problem)
    return entry


class TurnRunner:
    """Runs ``run_agent`` operations for one agent."""

    def __init__(
        self, registration: AgentRegistration, store: ConversationStore, cache: HistoryCache
    ) -> None:
        self.reg = registration
        self.store = store
        self.cache = cache

    async def run(
        self, record: SessionRecord | None, session: str, op: RunOperation
    ) -> tuple[SessionRecord, Any]:
        """Apply one ``run_agent`` operation; returns the new record and the operation's result."""
        record = (
            replace(record)
            if record is not None
            else SessionRecord.new(self.reg.name, session, op.correlation_id)
        )
        before = replace(record, requests=dict(record.requests))  # what a failed turn leaves behind
        try:
            return await self._run(record, session, op)
        except StoreUnavailableError:
            logger.warning(
                "conversation store unavailable during turn %s of %s", op.correlation_id, self.reg.name
            )
            problem = StoreUnavailable(
                "The conversation store is temporarily unavailable; retry the request.", retry_after=5
            )
            return self._remember(
                record, op, _entry(op, problem.status, turn=None, retryable=True, problem=problem)
            )
        except Exception as exc:  # noqa: BLE001 - a request must always get an answer in the ledger
            # Without one, the route waits out its wait cap and the Location answers 202 for ever.
            name = type(exc).__name__
            logger.error("turn %s of %s could not be completed: %s", op.correlation_id, self.reg.name, name)
            detail = (
                "The turn's reply is too large to be stored."
                if isinstance(exc, RecordTooLargeError)
                else "The turn could not be completed. See the app's logs for the correlation id."
            )
            failed = InternalError(detail)
            return self._remember(
                before, op, _entry(op, failed.status, turn=None, retryable=False, problem=failed)
            )

    async def _run(self, record: SessionRecord, session: str, op: RunOperation) -> tuple[SessionRecord, Any]:
        record.requests = dict(record.requests)
        known = record.requests.get(op.correlation_id)
        if known is not None and (known.get("fp") != op.fingerprint or not known.get("retryable")):
            return record, known
        if op.role not in self.reg.allowed_roles:
            problem: Problem = RoleNotAllowed(f"This app does not accept messages with role '{op.role}'.")
            return self._remember(
                record, op, _entry(op, problem.status, turn=None, retryable=False, problem=problem)
            )
        if op.if_match is not None and op.if_match != record.etag:
            problem = PreconditionFailed("If-Match does not match the session's current ETag; read it again.")
            return self._remember(
                record, op, _entry(op, problem.status, turn=None, retryable=True, problem=problem)
            )
        turn = record.turns + 1
        ref = SessionRef(self.reg.name, session, record.incarnation)
        written = await self.store.get_turn(ref, turn)
        if written is not None and written.request_id == op.correlation_id:
            outcome: TurnRecord | None = written
            problem_or_none = _problem_of(written)
            self.cache.forget(ref)
        else:
            outcome, problem_or_none = await self._attempt(record, ref, turn, op)
        if outcome is None:  # transient failure: nothing recorded, the request may be retried
            assert problem_or_none is not None
            entry = _entry(op, problem_or_none.status, turn=None, retryable=True, problem=problem_or_none)
            return self._remember(record, op, entry)
        record.turns = turn
        if problem_or_none is None:
            record.last_response = reply_text(outcome)
            reply = run_result(outcome, session, structured=op.response_schema is not None)
            entry = _entry(op, 200, turn=turn, retryable=False, reply=reply)
        else:
            entry = _entry(op, problem_or_none.status, turn=turn, retryable=False, problem=problem_or_none)
        return self._remember(record, op, entry)

    @staticmethod
    def _remember(
        record: SessionRecord, op: RunOperation, entry: dict[str, Any]
    ) -> tuple[SessionRecord, Any]:
        record.remember(op.correlation_id, entry)
        return record, entry

    async def _attempt(
        self, record: SessionRecord, ref: SessionRef, turn: int, op: RunOperation
    ) -> tuple[TurnRecord | None, Problem | None]:
        started = utc_now()
        user = Message(role=op.role, contents=[op.message])
        previous = next(reversed(record.requests), None)
        if previous is not None and not record.requests[previous].get("retryable"):
            # committed and final: its ledger row (attempts, "running") has served its purpose
            await self.store.forget_request(self.reg.name, ref.session, previous)
        attempts = await self.store.begin_attempt(self.reg.name, ref.session, op.correlation_id)
        if attempts > self.reg.max_attempts:
            logger.error(
                "turn %s of %s poisoned after %d attempts", op.correlation_id, self.reg.name, attempts - 1
            )
            poisoned = TurnPoisoned("This turn failed repeatedly while running and was abandoned.")
            return await self._write(ref, op, turn, user, started, None, None, poisoned, []), poisoned
        history = await self.cache.history(self.store, ref, record.turns)
        options: dict[str, Any] = {}
        if not op.enable_tool_calls:
            options["tool_choice"] = "none"
        if op.response_schema is not None:
            options["response_format"] = dict(op.response_schema)
        context = AgentCallbackContext(self.reg.name, op.correlation_id, ref.session, op.message)
        crash_point("turn.before_model")
        try:
            result = await call_agent(
                self.reg.agent,
                user,
                history,
                session_id=f"@{self.reg.name}@{ref.session}",
                options=options,
                uses_provider=self.reg.uses_provider,
                callback=self.reg.callback,
                context=context,
                settings=self.reg.call,
            )
        except Exception as exc:  # noqa: BLE001 - every failure of the agent is classified into a problem
            problem = classify(exc)
            logger.warning(
                "turn %s of %s failed: %s -> %s",
                op.correlation_id,
                self.reg.name,
                type(exc).__name__,
                problem.slug,
            )
            if is_retryable(problem):  # the attempt ended without a crash: it does not count toward poisoning
                await self.store.forget_request(self.reg.name, ref.session, op.correlation_id)
                return None, problem
            return await self._write(ref, op, turn, user, started, None, None, problem, []), problem
        crash_point("turn.after_model")
        value, problem_or_none = None, None
        if op.response_schema is not None:
            value, problem_or_none = check_structured(parse_value(result.response), op.response_schema)
        reply = result.response.to_dict()
        new_messages = result.new_messages if problem_or_none is None else []
        return await self._write(
            ref, op, turn, user, started, reply, value, problem_or_none, new_messages
        ), problem_or_none

    async def _write(
        self,
        ref: SessionRef,
        op: RunOperation,
        turn: int,
        user: Message,
        started: str,
        reply: dict[str, Any] | None,
        value: Any,
        problem: Problem | None,
        new_messages: list[Message],
    ) -> TurnRecord:
        """Write turn ``turn`` (idempotently) and extend the cached history with what the model saw."""
        record = TurnRecord(
            turn=turn,
            request_id=op.correlation_id,
            role=op.role,
            user=user.to_dict(),
            reply=reply,
            value=value,
            error=problem_record(problem) if problem is not None else None,
            started_at=started,
            completed_at=utc_now(),
        )
        await self.store.append_turn(ref, record)
        crash_point("turn.after_transcript")
        self.cache.advance(ref, turn, new_messages)
        return record


def _problem_of(record: TurnRecord) -> Problem | None:
    if record.error is None:
        return None
    from durableagent.contract.problems import from_record

    return from_record(record.error)
