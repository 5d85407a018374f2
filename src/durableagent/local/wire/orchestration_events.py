"""Orchestrator trigger wire format, request side: history events and the request the host sends.

Why: azure-functions-durable 1.x replays an orchestrator from the JSON the Durable extension writes
in ``OrchestrationContextToString`` (DTFx history events with PascalCase fields and an integer
``EventType``) and answers with ``OrchestratorState.to_json_string`` (``isDone``, ``actions``,
``output``, ``error``, ``customStatus``; protocol.md §4.4). The answer side lives in
``orchestration_actions``; ``orchestration_json`` re-exports both for the engine and the tests.

Invariants:
* Every payload field of a history event (``Input``, ``Result``) is a JSON *text* or ``None``;
  nothing here re-encodes it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any

OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"
# What the extension sends for the Azure Storage provider (long timers are split by the SDK).
MAXIMUM_SHORT_TIMER = "6.00:00:00"
LONG_TIMER_INTERVAL = "3.00:00:00"


class EventType(IntEnum):
    """DTFx ``EventType`` values (the SDK's ``HistoryEventType``)."""

    EXECUTION_STARTED = 0
    EXECUTION_COMPLETED = 1
    EXECUTION_FAILED = 2
    EXECUTION_TERMINATED = 3
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    SUB_ORCHESTRATION_CREATED = 7
    SUB_ORCHESTRATION_COMPLETED = 8
    SUB_ORCHESTRATION_FAILED = 9
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_SENT = 14
    EVENT_RAISED = 15
    CONTINUE_AS_NEW = 16
    GENERIC = 17
    HISTORY_STATE = 18
    EXECUTION_SUSPENDED = 19
    EXECUTION_RESUMED = 20


class ActionType(IntEnum):
    """``actionType`` values of the SDK's actions (``OutOfProcOrchestrationShim.AsyncActionType``)."""

    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    SCHEDULED_SIGNAL_ENTITY = 10
    WHEN_ANY = 11
    WHEN_ALL = 12


HistoryEvent = dict[str, Any]


# --------------------------------------------------------------------------- timestamps


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and ``Z`` (what the SDK writes for ``fireAt``)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` or offset; 0–7 fractional digits) to an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    if "." in value:
        head, _, rest = value.partition(".")
        digits = "".join(itertools.takewhile(str.isdigit, rest))
        tail = rest[len(digits) :]
        value = f"{head}.{(digits + '000000')[:6]}{tail}"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# --------------------------------------------------------------------------- history events


def _event(kind: EventType, at: datetime, event_id: int = -1, **fields: Any) -> HistoryEvent:
    doc: HistoryEvent = {
        "EventType": int(kind),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_time(at),
    }
    doc.update(fields)
    return doc


def orchestrator_started(at: datetime) -> HistoryEvent:
    """``OrchestratorStarted``: opens an episode; its ``Timestamp`` is the replay's current time."""
    return _event(EventType.ORCHESTRATOR_STARTED, at)


def orchestrator_completed(at: datetime) -> HistoryEvent:
    """``OrchestratorCompleted``: closes the events one episode added."""
    return _event(EventType.ORCHESTRATOR_COMPLETED, at)


def execution_started(
    at: datetime,
    name: str,
    input_text: str | None,
    instance_id: str,
    execution_id: str,
    parent: Mapping[str, Any] | None = None,
    version: str | None = None,
) -> HistoryEvent:
    """``ExecutionStarted``; ``parent`` is DTFx's ParentInstance (``{"OrchestrationInstance": …}``)."""
    return _event(
        EventType.EXECUTION_STARTED,
        at,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=dict(parent) if parent is not None else None,
        Name=name,
        Version=version,
        Input=input_text,
        Tags=None,
    )


def execution_completed(
    at: datetime, status: str, result: str | None, details: str | None = None
) -> HistoryEvent:
    """``ExecutionCompleted`` with DTFx's ``OrchestrationStatus`` name and ``Result`` text."""
    fields: dict[str, Any] = {"OrchestrationStatus": status, "Result": result}
    if details is not None:
        fields["Details"] = details
    return _event(EventType.EXECUTION_COMPLETED, at, **fields)


def execution_terminated(at: datetime, reason: str | None) -> HistoryEvent:
    """``ExecutionTerminated``; the termination ``reason`` travels as ``Input``, as DTFx writes it."""
    return _event(EventType.EXECUTION_TERMINATED, at, Input=reason)


def execution_suspended(at: datetime, reason: str | None) -> HistoryEvent:
    """``ExecutionSuspended`` with the caller's ``reason`` (``None`` if none was given)."""
    return _event(EventType.EXECUTION_SUSPENDED, at, Reason=reason)


def execution_resumed(at: datetime, reason: str | None) -> HistoryEvent:
    """``ExecutionResumed`` with the caller's ``reason`` (``None`` if none was given)."""
    return _event(EventType.EXECUTION_RESUMED, at, Reason=reason)


def task_scheduled(at: datetime, seq: int, name: str, input_text: str | None) -> HistoryEvent:
    """``TaskScheduled`` for an activity call; ``seq`` is the ``EventId`` its answer names."""
    return _event(EventType.TASK_SCHEDULED, at, seq, Name=name, Version="", Input=input_text)


def task_completed(at: datetime, seq: int, result: str | None) -> HistoryEvent:
    """``TaskCompleted`` answering the ``TaskScheduled`` numbered ``seq``, with the result JSON text."""
    return _event(EventType.TASK_COMPLETED, at, TaskScheduledId=seq, Result=result)


def task_failed(at: datetime, seq: int, reason: str, details: str | None) -> HistoryEvent:
    """``TaskFailed`` answering the ``TaskScheduled`` numbered ``seq``, with ``Reason`` and ``Details``."""
    return _event(EventType.TASK_FAILED, at, TaskScheduledId=seq, Reason=reason, Details=details)


def sub_orchestration_created(
    at: datetime, seq: int, name: str, instance_id: str, input_text: str | None, version: str | None = None
) -> HistoryEvent:
    """``SubOrchestrationInstanceCreated`` numbered ``seq``: child ``instance_id`` and its input."""
    return _event(
        EventType.SUB_ORCHESTRATION_CREATED,
        at,
        seq,
        Name=name,
        Version=version or "",
        InstanceId=instance_id,
        Input=input_text,
    )


def sub_orchestration_completed(at: datetime, seq: int, result: str | None) -> HistoryEvent:
    """``SubOrchestrationInstanceCompleted`` for the child started as ``seq``, with its output."""
    return _event(EventType.SUB_ORCHESTRATION_COMPLETED, at, TaskScheduledId=seq, Result=result)


def sub_orchestration_failed(at: datetime, seq: int, reason: str, details: str | None) -> HistoryEvent:
    """``SubOrchestrationInstanceFailed`` for the child started as ``seq``, with ``Reason``/``Details``."""
    return _event(EventType.SUB_ORCHESTRATION_FAILED, at, TaskScheduledId=seq, Reason=reason, Details=details)


def timer_created(at: datetime, seq: int, fire_at: datetime) -> HistoryEvent:
    """``TimerCreated`` numbered ``seq``, due at ``fire_at``."""
    return _event(EventType.TIMER_CREATED, at, seq, FireAt=format_time(fire_at))


def timer_fired(at: datetime, seq: int, fire_at: datetime) -> HistoryEvent:
    """``TimerFired`` for the timer numbered ``seq`` (``TimerId``), due at ``fire_at``."""
    return _event(EventType.TIMER_FIRED, at, TimerId=seq, FireAt=format_time(fire_at))


def event_sent(at: datetime, seq: int, target: str, name: str, input_text: str) -> HistoryEvent:
    """``EventSent`` (entity call/signal): ``Input`` is the RequestMessage JSON whose ``id`` the SDK reads."""
    return _event(EventType.EVENT_SENT, at, seq, InstanceId=target, Name=name, Input=input_text)


def event_raised(at: datetime, name: str, input_text: str | None) -> HistoryEvent:
    """``EventRaised``: an external event, or an entity's response named by its request id."""
    return _event(EventType.EVENT_RAISED, at, Name=name, Input=input_text)


def entity_request_message(
    operation: str,
    request_id: str,
    input_text: str | None,
    *,
    is_signal: bool,
    parent: str,
    parent_execution: str,
) -> str:
    """The extension's ``RequestMessage`` JSON carried in ``EventSent.Input``."""
    doc: dict[str, Any] = {
        "op": operation,
        "id": request_id,
        "parent": parent,
        "parentExecution": parent_execution,
    }
    if is_signal:
        doc["signal"] = True
    if input_text is not None:
        doc["input"] = input_text
    return json.dumps(doc)


# --------------------------------------------------------------------------- trigger request


def trigger_request(
    history: Iterable[HistoryEvent],
    *,
    instance_id: str,
    input_value: Any,
    parent_instance_id: str | None = None,
    played: int = 0,
) -> str:
    """The ``orchestrationTrigger`` datum: ``history`` with the first ``played`` events marked played.

    ``input_value`` is the JToken of the start input (a decoded JSON value: with the Python client's
    double encoding it is itself a JSON string, which the SDK ``df_loads`` in ``get_input``).
    """
    events = []
    for index, event in enumerate(history):
        doc = dict(event)
        doc["IsPlayed"] = index < played
        events.append(doc)
    return json.dumps(
        {
            "history": events,
            "input": input_value,
            "instanceId": instance_id,
            "isReplaying": played > 0,
            "parentInstanceId": parent_instance_id,
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
            "maximumShortTimerDuration": MAXIMUM_SHORT_TIMER,
            "longRunningTimerIntervalDuration": LONG_TIMER_INTERVAL,
            "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
        }
    )
