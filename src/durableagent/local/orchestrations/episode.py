"""One orchestration episode: replay the orchestrator over its history plus new events, decide.

Why: this is the minimum engine of protocol.md §4.4 as a pure function. It appends
``OrchestratorStarted`` and the batch's events, invokes the orchestrator through an injected
callable (the real SDK handler in tests, the host's function invoker at run time), parses the
answer and returns everything the episode commits: history, status, output, work to schedule and
messages for the parent. No I/O happens here.

Invariants:
* The orchestrator runs with exactly the history that will be committed (old events played, the
  new ones not), so a crash before the commit simply replays the same episode.
* ``OrchestratorStarted`` timestamps never go backwards (they drive ``current_utc_datetime``).
* An episode that ends the instance emits only fire-and-forget work (entity messages); activities,
  timers and sub-orchestrations scheduled in a final episode are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from durableagent.local.orchestrations import actions, endings, retrying
from durableagent.local.orchestrations.batching import Batch, completion_seq
from durableagent.local.orchestrations.catalog import ActionRejected, Catalog
from durableagent.local.orchestrations.model import (
    EngineState,
    EpisodeOutcome,
    InstanceSnapshot,
    Message,
    MessageKind,
    RuntimeStatus,
)
from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.orchestration_json import ActionType, EventType, HistoryEvent

Invoker = Callable[[str], str]


class InvocationFailed(Exception):
    """The orchestrator function raised; ``message`` is the exception text (may carry $OutOfProcData$)."""

    def __init__(self, message: str) -> None:
        """Keep ``message``, the exception text the orchestrator's worker reported."""
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Prepared:
    """An episode up to the invocation: its history and the trigger request (``None``: no invocation)."""

    snap: InstanceSnapshot
    batch: Batch
    out: EpisodeOutcome
    at: datetime
    request: str | None


def prepare(snap: InstanceSnapshot, batch: Batch, *, now: datetime) -> Prepared:
    """Append ``OrchestratorStarted`` and the batch's events; build the request (or a control outcome)."""
    consumed = [m.id for m in (*batch.take, *batch.drop)]
    at = episode_time(snap.history, now)
    out = EpisodeOutcome(consumed=consumed, history=[], status=snap.status, state=snap.state.copy())
    control = batch.control
    if control is not None:
        return Prepared(snap, batch, endings.control(snap, control, out, at), at, None)
    if not batch.take:
        out.invoked = False
        return Prepared(snap, batch, out, at, None)
    out.history.append(wire.orchestrator_started(at))
    for message in batch.take:
        _append_message(snap, message, out, at)
    request = wire.trigger_request(
        [*snap.history, *out.history],
        instance_id=snap.instance_id,
        input_value=json.loads(snap.input_text) if snap.input_text is not None else None,
        parent_instance_id=snap.parent.instance_id if snap.parent else None,
        played=len(snap.history),
    )
    return Prepared(snap, batch, out, at, request)


def complete(
    prepared: Prepared,
    answer: str | InvocationFailed,
    *,
    catalog: Catalog,
    new_id: Callable[[], str],
) -> EpisodeOutcome:
    """Decide the episode from the orchestrator's ``answer`` (its JSON, or the failure it raised)."""
    snap, out, at = prepared.snap, prepared.out, prepared.at
    try:
        if isinstance(answer, InvocationFailed):
            head, parsed = wire.split_failure(answer.message)
            if parsed is None or not parsed.error:
                return endings.fail(
                    snap, out, f"Orchestrator function '{snap.name}' failed: {head.strip()}", at
                )
            response = parsed
        else:
            response = wire.parse_response(answer)
    except wire.ResponseError:
        return endings.fail(
            snap, out, f"Orchestrator function '{snap.name}' returned an invalid response.", at
        )
    if response.has_custom_status and response.custom_status is not None:
        out.custom_status_text = json.dumps(response.custom_status)
        out.custom_status_set = True
    problem = actions.check_replay(snap, response.actions)
    if problem is not None:
        return endings.fail(snap, out, problem, at)
    out.cancel_timers = actions.cancelled_timers(snap, response.actions)
    try:
        continue_as_new = actions.issue(snap, response.actions, out, at=at, catalog=catalog, new_id=new_id)
    except ActionRejected as rejected:
        return endings.fail(snap, out, f"Orchestrator function '{snap.name}' failed: {rejected.message}", at)
    last = prepared.batch.take[-1]
    if last.kind is MessageKind.COMPLETION and completion_seq(last) in snap.state.retry_owner:
        retrying.advance(snap, last, out, at=at)
    _count_waits(out.state, response.actions)
    if response.error:
        return endings.fail(snap, out, f"Orchestrator function '{snap.name}' failed: {response.error}", at)
    if response.is_done and continue_as_new is not None:
        return endings.continue_as_new(out, continue_as_new, at, new_id)
    if response.is_done:
        output = json.dumps(response.output) if response.output is not None else None
        return endings.finish(
            snap, out, RuntimeStatus.COMPLETED, output, at, wire.sub_orchestration_completed
        )
    out.history.append(wire.orchestrator_completed(at))
    return out


def episode_time(history: list[HistoryEvent], now: datetime) -> datetime:
    """``now``, but never before the last ``OrchestratorStarted`` (replay time must not go back)."""
    for event in reversed(history):
        if event.get("EventType") == EventType.ORCHESTRATOR_STARTED:
            return max(now, wire.parse_time(event["Timestamp"]))
    return now


def _append_message(snap: InstanceSnapshot, message: Message, out: EpisodeOutcome, at: datetime) -> None:
    if message.kind is MessageKind.START:
        parent = None
        if snap.parent is not None:
            parent = {
                "OrchestrationInstance": {
                    "InstanceId": snap.parent.instance_id,
                    "ExecutionId": snap.parent.execution_id,
                },
                "TaskScheduleId": snap.parent.seq,
            }
        out.history.append(
            wire.execution_started(
                at, snap.name, snap.input_text, snap.instance_id, snap.execution_id, parent, snap.version
            )
        )
        out.status = RuntimeStatus.RUNNING
        return
    if message.event is None:
        return
    out.history.append(dict(message.event))
    name = str(message.event.get("Name"))
    if message.kind is MessageKind.EVENT:
        out.state.delivered[name] = out.state.delivered.get(name, 0) + 1
    elif message.kind is MessageKind.RESPONSE and name in out.state.calls:
        out.state.calls.remove(name)


def _count_waits(state: EngineState, all_actions: tuple[wire.Action, ...]) -> None:
    """Open waiters per event name: waits the orchestrator ever issued minus events delivered."""
    total: dict[str, int] = {}
    for action in all_actions:
        if action.type is ActionType.WAIT_FOR_EXTERNAL_EVENT:
            name = action.text("externalEventName") or ""
            total[name] = total.get(name, 0) + 1
    state.open_waits = {
        n: c - state.delivered.get(n, 0) for n, c in total.items() if c > state.delivered.get(n, 0)
    }
