"""How an episode ends an execution: completed, failed, terminated, continued as new; and control episodes.

Why: every way out of an execution must record the same things (``ExecutionCompleted`` with DTFx's
status name, the output, the message for a parent) and drop work that would outlive the
execution; suspend/resume are recorded without running the orchestrator. Keeping these endings in
one place keeps them consistent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from durableagent.local.orchestrations.model import (
    EngineState,
    EpisodeOutcome,
    InstanceSnapshot,
    Message,
    MessageKind,
    RuntimeStatus,
)
from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.orchestration_json import EventType, HistoryEvent


def fail(
    snap: InstanceSnapshot, out: EpisodeOutcome, message: str, at: datetime, details: str = ""
) -> EpisodeOutcome:
    """End the instance as Failed; ``message`` becomes its output and the parent's failure reason."""
    if not out.history:
        out.history.append(wire.orchestrator_started(at))
    out.history.append(wire.execution_completed(at, "Failed", message, details))
    out.history.append(wire.orchestrator_completed(at))
    return _end(
        snap,
        out,
        RuntimeStatus.FAILED,
        message,
        wire.sub_orchestration_failed(at, _pseq(snap), message, details),
    )


def finish(
    snap: InstanceSnapshot,
    out: EpisodeOutcome,
    status: RuntimeStatus,
    output: str | None,
    at: datetime,
    parent_event: Callable[[datetime, int, str | None], HistoryEvent],
) -> EpisodeOutcome:
    """End the execution with ``status`` and ``output``; ``parent_event`` builds the parent's notice."""
    out.history.append(wire.execution_completed(at, status.value, output))
    out.history.append(wire.orchestrator_completed(at))
    return _end(snap, out, status, output, parent_event(at, _pseq(snap), output))


def _end(
    snap: InstanceSnapshot,
    out: EpisodeOutcome,
    status: RuntimeStatus,
    output: str | None,
    parent_event: HistoryEvent,
) -> EpisodeOutcome:
    out.status = status
    out.output_text = output
    out.activities.clear()
    out.timers.clear()
    out.children.clear()
    out.self_messages.clear()
    out.parent_event = parent_event if snap.parent is not None else None
    return out


def continue_as_new(
    out: EpisodeOutcome, action: wire.Action, at: datetime, new_id: Callable[[], str]
) -> EpisodeOutcome:
    """End the execution as ContinuedAsNew: a fresh one with the action's input and empty state."""
    value = action.raw.get("input")
    out.new_input_text = json.dumps(value) if value is not None else None
    out.new_execution_id = new_id().replace("-", "")
    out.history.append(wire.execution_completed(at, RuntimeStatus.CONTINUED_AS_NEW.value, out.new_input_text))
    out.history.append(wire.orchestrator_completed(at))
    out.status = RuntimeStatus.CONTINUED_AS_NEW
    out.state = EngineState()
    out.activities.clear()
    out.timers.clear()
    out.children.clear()
    out.self_messages.clear()
    return out


def control(snap: InstanceSnapshot, message: Message, out: EpisodeOutcome, at: datetime) -> EpisodeOutcome:
    """Apply a terminate, suspend or resume message without invoking the orchestrator."""
    out.invoked = False
    if message.kind is MessageKind.TERMINATE:
        out.history.append(wire.execution_terminated(at, message.reason))
        out.history.append(wire.execution_completed(at, RuntimeStatus.TERMINATED.value, message.reason))
        failed = wire.sub_orchestration_failed(at, _pseq(snap), message.reason or "", "")
        return _end(snap, out, RuntimeStatus.TERMINATED, message.reason, failed)
    if message.kind is MessageKind.SUSPEND:
        out.history.append(wire.execution_suspended(at, message.reason))
        out.status = RuntimeStatus.SUSPENDED
        return out
    out.history.append(wire.execution_resumed(at, message.reason))
    started = any(e.get("EventType") == EventType.EXECUTION_STARTED for e in snap.history)
    out.status = RuntimeStatus.RUNNING if started else RuntimeStatus.PENDING
    return out


def _pseq(snap: InstanceSnapshot) -> int:
    return snap.parent.seq if snap.parent is not None else -1
