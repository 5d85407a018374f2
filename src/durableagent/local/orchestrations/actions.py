"""Turn the SDK's *new* actions into history events and work (the DTFx action dispatcher's job).

Why: the SDK returns its whole action list on every replay; only the actions past the ones already
issued are new. Each new action takes the next sequence number (WaitForExternalEvent takes none),
gets its scheduling history event (TaskScheduled, TimerCreated, EventSent,
SubOrchestrationInstanceCreated) and, in the same commit, its work item.

Invariant: scheduling events carry the sequence number the SDK gave the task, so the SDK's replay
matches completions to its tasks; a mismatch against already-issued actions is reported as
non-determinism instead of being silently re-scheduled.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from durableagent.local.orchestrations import retry as retries
from durableagent.local.orchestrations.catalog import ActionRejected, Catalog, unknown_function
from durableagent.local.orchestrations.durable_http import ACTIVITY_NAME as HTTP_ACTIVITY
from durableagent.local.orchestrations.model import (
    ActivityWork,
    ChildStart,
    EntityWork,
    EpisodeOutcome,
    InstanceSnapshot,
    TimerWork,
)
from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.orchestration_json import Action, ActionType, EventType, HistoryEvent

_SCHEDULING_EVENT = {
    ActionType.CALL_ACTIVITY: EventType.TASK_SCHEDULED,
    ActionType.CALL_ACTIVITY_WITH_RETRY: EventType.TASK_SCHEDULED,
    ActionType.CALL_SUB_ORCHESTRATOR: EventType.SUB_ORCHESTRATION_CREATED,
    ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY: EventType.SUB_ORCHESTRATION_CREATED,
    ActionType.CREATE_TIMER: EventType.TIMER_CREATED,
    ActionType.CALL_ENTITY: EventType.EVENT_SENT,
    ActionType.SIGNAL_ENTITY: EventType.EVENT_SENT,
    ActionType.SCHEDULED_SIGNAL_ENTITY: EventType.EVENT_SENT,
    ActionType.CALL_HTTP: EventType.TASK_SCHEDULED,
}


def check_replay(snap: InstanceSnapshot, actions: Sequence[Action]) -> str | None:
    """A non-determinism message when the replayed actions disagree with history, else ``None``."""
    state = snap.state
    if len(actions) < state.issued:
        return "Non-Deterministic workflow detected: the orchestrator scheduled fewer actions on replay."
    scheduled = scheduling_events(snap.history)
    for action, seq in zip(actions[: state.issued], state.action_seqs, strict=False):
        expected = _SCHEDULING_EVENT.get(action.type)
        if expected is None or seq < 0:
            continue
        event = scheduled.get(seq)
        if event is None or event.get("EventType") != expected:
            return f"Non-Deterministic workflow detected: action {seq} was replayed as {action.type.name}."
        name = action.text("functionName")
        if name is not None and event.get("Name") != name:
            return f"Non-Deterministic workflow detected: action {seq} was replayed with function '{name}'."
    return None


def cancelled_timers(snap: InstanceSnapshot, actions: Sequence[Action]) -> list[int]:
    """Sequence numbers of already-issued timers the orchestrator has since cancelled."""
    out = []
    for action, seq in zip(actions[: snap.state.issued], snap.state.action_seqs, strict=False):
        if action.type is ActionType.CREATE_TIMER and action.raw.get("isCanceled") and seq >= 0:
            out.append(seq)
    return out


def issue(
    snap: InstanceSnapshot,
    actions: Sequence[Action],
    out: EpisodeOutcome,
    *,
    at: datetime,
    catalog: Catalog,
    new_id: Callable[[], str],
) -> Action | None:
    """Issue ``actions[state.issued:]`` into ``out``; returns a ContinueAsNew action if one is new."""
    state = out.state
    continue_as_new: Action | None = None
    for action in actions[state.issued :]:
        seq = -1
        if action.consumes_sequence:
            seq = state.next_seq
            state.next_seq += 1
        state.action_seqs.append(seq)
        state.issued += 1
        if action.type is ActionType.CONTINUE_AS_NEW:
            continue_as_new = action
        else:
            _issue_one(snap, action, seq, out, at=at, catalog=catalog, new_id=new_id)
    return continue_as_new


def _issue_one(
    snap: InstanceSnapshot,
    action: Action,
    seq: int,
    out: EpisodeOutcome,
    *,
    at: datetime,
    catalog: Catalog,
    new_id: Callable[[], str],
) -> None:
    kind = action.type
    if kind in (ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY):
        name = action.text("functionName") or ""
        if name.lower() not in catalog.activities:
            raise ActionRejected(unknown_function(name, "activity", catalog.activities))
        if kind is ActionType.CALL_ACTIVITY_WITH_RETRY:
            _open_retry(out, "activity", name, action.text("input"), None, action, at, seq)
        schedule_activity(out, seq, name, action.text("input"), at)
    elif kind in (ActionType.CALL_SUB_ORCHESTRATOR, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
        name = action.text("functionName") or ""
        if name.lower() not in catalog.orchestrators:
            raise ActionRejected(unknown_function(name, "orchestrator", catalog.orchestrators))
        requested = action.text("instanceId")
        _check_child_id(snap, requested)
        child_input = _as_input(action.raw.get("input"))
        version = action.text("version")  # call_sub_orchestrator(version=...); None: defaultVersion
        if kind is ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY:
            _open_retry(out, "orchestrator", name, child_input, requested, action, at, seq)
            out.state.retries[seq].version = version
        start_child(snap, out, seq, name, requested, child_input, at, version)
    elif kind is ActionType.CREATE_TIMER:
        fire_at = wire.parse_time(action.text("fireAt") or "")
        out.history.append(wire.timer_created(at, seq, fire_at))
        if not action.raw.get("isCanceled"):
            out.timers.append(TimerWork(seq, fire_at))
    elif kind is ActionType.WAIT_FOR_EXTERNAL_EVENT:
        pass  # no history event; open waits are recounted from the whole action list
    elif kind in (ActionType.CALL_ENTITY, ActionType.SIGNAL_ENTITY, ActionType.SCHEDULED_SIGNAL_ENTITY):
        _send_entity(snap, action, seq, out, at=at, catalog=catalog, new_id=new_id)
    else:  # CALL_HTTP: the extension's reserved activity, run by the host (durable_http.py)
        request = action.raw.get("httpRequest")
        if not isinstance(request, dict):
            raise ActionRejected("call_http: the action has no httpRequest.")
        schedule_activity(out, seq, HTTP_ACTIVITY, json.dumps(request), at)


def schedule_activity(out: EpisodeOutcome, seq: int, name: str, input_text: str | None, at: datetime) -> None:
    """Record ``TaskScheduled`` numbered ``seq`` and queue the activity to run once the episode commits."""
    out.history.append(wire.task_scheduled(at, seq, name, input_text))
    out.activities.append(ActivityWork(seq, name, input_text))


def start_child(
    snap: InstanceSnapshot,
    out: EpisodeOutcome,
    seq: int,
    name: str,
    requested: str | None,
    input_text: str | None,
    at: datetime,
    version: str | None = None,
) -> None:
    """SubOrchestrationInstanceCreated + the child start (DTFx names it ``{executionId}:{seq}``)."""
    child_id = requested or f"{snap.execution_id}:{seq}"
    out.history.append(wire.sub_orchestration_created(at, seq, name, child_id, input_text, version))
    out.children.append(ChildStart(child_id, name, input_text, seq, version))


def _send_entity(
    snap: InstanceSnapshot,
    action: Action,
    seq: int,
    out: EpisodeOutcome,
    *,
    at: datetime,
    catalog: Catalog,
    new_id: Callable[[], str],
) -> None:
    target = action.text("instanceId") or ""
    parts = target.split("@")
    if len(parts) != 3 or parts[0] != "" or not parts[1] or not parts[2]:
        raise ActionRejected(f"'{target}' is not a valid entity id.")
    if parts[1].lower() not in catalog.entities:
        raise ActionRejected(unknown_function(parts[1], "entity", catalog.entities))
    is_signal = action.type is not ActionType.CALL_ENTITY
    operation = action.text("operation") or ""
    raw_input = action.raw.get("input")
    input_text = json.dumps(raw_input) if raw_input is not None else None
    request_id = new_id()
    message = wire.entity_request_message(
        operation,
        request_id,
        input_text,
        is_signal=is_signal,
        parent=snap.instance_id,
        parent_execution=snap.execution_id,
    )
    out.history.append(wire.event_sent(at, seq, target, "op", message))
    out.entity_messages.append(EntityWork(target, operation, input_text, is_signal, request_id))
    if not is_signal:
        out.state.calls.append(request_id)


def _open_retry(
    out: EpisodeOutcome,
    kind: str,
    name: str,
    input_text: str | None,
    instance_id: str | None,
    action: Action,
    at: datetime,
    seq: int,
) -> None:
    try:
        group = retries.new_group(
            kind, name, input_text, instance_id, action.raw.get("retryOptions"), at, seq
        )
    except retries.RetryOptionsError as exc:
        raise ActionRejected(str(exc)) from exc
    out.state.retries[seq] = group
    out.state.retry_owner[seq] = seq


def _check_child_id(snap: InstanceSnapshot, requested: str | None) -> None:
    if requested is None:
        return
    parent_id = snap.parent.instance_id if snap.parent else None
    if requested.lower() in {snap.instance_id.lower(), (parent_id or "").lower()}:
        raise ActionRejected(
            "The instance ID of a sub-orchestration must be different than the instance ID of a parent"
            " orchestration."
        )
    if requested.startswith("@"):
        raise ActionRejected("Orchestration instance ids must not start with @")


def _as_input(value: object) -> str | None:
    """The ExecutionStarted input of a child/next execution: the action's input *text*, as JSON."""
    return json.dumps(value) if value is not None else None


def scheduling_events(history: Sequence[HistoryEvent]) -> dict[int, HistoryEvent]:
    """Scheduling events of ``history`` by sequence number."""
    return {e["EventId"]: e for e in history if e.get("EventType") in _SCHEDULING_EVENT.values()}
