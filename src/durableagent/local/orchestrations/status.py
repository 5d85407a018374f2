"""The instance status payload of the Durable HTTP API (``StatusResponsePayload``), history included.

Why: ``DurableOrchestrationClient.get_status`` builds its result from exactly this JSON, and users
read ``input``/``output``/``customStatus``/``historyEvents`` from it. The extension's rules are
reproduced here: stored texts are parsed back to JSON where they parse (``ParseToJToken``, so a
termination reason stays a plain string), times are ``yyyy-MM-ddTHH:mm:ssZ``, and ``showHistory``
shows the DTFx history the way ``DurableClient.GetDurableOrchestrationStatusAsync`` trims it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from durableagent.local.orchestrations.tables import InstanceRow
from durableagent.local.wire.orchestration_json import EventType, HistoryEvent, parse_time

_EVENT_NAMES = (
    "ExecutionStarted",
    "ExecutionCompleted",
    "ExecutionFailed",
    "ExecutionTerminated",
    "TaskScheduled",
    "TaskCompleted",
    "TaskFailed",
    "SubOrchestrationInstanceCreated",
    "SubOrchestrationInstanceCompleted",
    "SubOrchestrationInstanceFailed",
    "TimerCreated",
    "TimerFired",
    "OrchestratorStarted",
    "OrchestratorCompleted",
    "EventSent",
    "EventRaised",
    "ContinueAsNew",
    "GenericEvent",
    "HistoryState",
    "ExecutionSuspended",
    "ExecutionResumed",
)
_STATUS_NAMES = {
    0: "Running",
    1: "Completed",
    2: "ContinuedAsNew",
    3: "Failed",
    4: "Canceled",
    5: "Terminated",
    6: "Pending",
    7: "Suspended",
}


def parse_token(text: str | None) -> Any:
    """``DurableClient.ParseToJToken``: JSON where it parses, else the raw (trimmed) string."""
    if text is None:
        return None
    value = text.strip()
    if not value:
        return ""
    try:
        return json.loads(value)
    except ValueError:
        return value


def short_time(text: str) -> str:
    """``DateTime.ToString("s") + "Z"``."""
    return parse_time(text).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_payload(
    row: InstanceRow,
    *,
    show_input: bool = True,
    history: Sequence[HistoryEvent] | None = None,
    show_history_output: bool = False,
) -> dict[str, Any]:
    """The ``StatusResponsePayload`` of ``row``; ``history`` adds ``historyEvents`` (showHistory)."""
    payload: dict[str, Any] = {
        "name": row.name,
        "instanceId": row.instance_id,
        "runtimeStatus": row.status.value,
        "input": parse_token(row.input) if show_input else None,
        "customStatus": parse_token(row.custom_status),
        "output": parse_token(row.output),
        "createdTime": short_time(row.created_time),
        "lastUpdatedTime": short_time(row.last_updated),
    }
    if row.version is not None:
        # Orchestration versioning: the instance's version (absent for unversioned instances, so
        # the payload stays the extension's StatusResponsePayload; the SDK keeps unknown keys).
        payload["version"] = row.version
    if history is not None:
        payload["historyEvents"] = history_events(
            history, show_input=show_input, show_output=show_history_output
        )
    return payload


def history_events(
    history: Sequence[HistoryEvent], *, show_input: bool, show_output: bool
) -> list[dict[str, Any]]:
    """The ``historyEvents`` array: scheduling events folded into their completions, episodes removed."""
    items = [dict(e) for e in history]
    scheduled: dict[str, tuple[int, HistoryEvent]] = {}
    drop: set[int] = set()
    for index, item in enumerate(items):
        kind = item.get("EventType")
        if kind in (EventType.TASK_SCHEDULED, EventType.SUB_ORCHESTRATION_CREATED):
            scheduled[f"{kind}_{item.get('EventId')}"] = (index, dict(item))
            item.pop("Version", None)
        elif kind in (
            EventType.TASK_COMPLETED,
            EventType.TASK_FAILED,
            EventType.SUB_ORCHESTRATION_COMPLETED,
            EventType.SUB_ORCHESTRATION_FAILED,
        ):
            origin = (
                EventType.TASK_SCHEDULED
                if kind < EventType.SUB_ORCHESTRATION_CREATED
                else (EventType.SUB_ORCHESTRATION_CREATED)
            )
            found = scheduled.get(f"{origin}_{item.get('TaskScheduledId')}")
            if found is not None:
                drop.add(found[0])
                item["ScheduledTime"] = found[1].get("Timestamp")
                item["FunctionName"] = found[1].get("Name")
                if show_input:
                    item["Input"] = found[1].get("Input")
            item.pop("TaskScheduledId", None)
            _result(
                item,
                show_output and kind in (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_COMPLETED),
            )
        elif kind == EventType.EXECUTION_STARTED:
            item["FunctionName"] = item.pop("Name", None)
            for key in ("OrchestrationInstance", "ParentInstance", "Version", "Tags"):
                item.pop(key, None)
        elif kind == EventType.EXECUTION_COMPLETED:
            status = item.get("OrchestrationStatus")
            if isinstance(status, int):
                item["OrchestrationStatus"] = _STATUS_NAMES.get(status, status)
            _result(item, show_output)
        elif kind == EventType.TIMER_FIRED:
            item.pop("TimerId", None)
        elif kind in (EventType.ORCHESTRATOR_STARTED, EventType.ORCHESTRATOR_COMPLETED):
            drop.add(index)
        if not show_input:
            item.pop("Input", None)
        item.pop("EventId", None)
        item.pop("IsPlayed", None)
        if isinstance(kind, int) and 0 <= kind < len(_EVENT_NAMES):
            item["EventType"] = _EVENT_NAMES[kind]
    return [item for index, item in enumerate(items) if index not in drop]


def _result(item: dict[str, Any], show: bool) -> None:
    if not show:
        item.pop("Result", None)
    elif "Result" in item:
        item["Result"] = parse_token(item["Result"])
