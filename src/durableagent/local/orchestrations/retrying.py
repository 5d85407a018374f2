"""Advance a ``…WithRetry`` action when one of its attempts or retry timers completes.

Why: the SDK's ``RetryAbleTask`` expects, for every failed attempt, a timer it never asked for
(TimerFired with the next sequence number) and, after that timer, a new attempt under the sequence
number after it. The extension produces both (DTFx ``RetryInterceptor``). This module is that
interceptor for the local engine; :mod:`batching` guarantees the completion is the episode's last
event, so the numbers allocated here follow the response's new actions, as in the SDK.

Deliberate deviation: when ``retryTimeoutInMilliseconds`` has expired, DTFx fails the task without
a timer, which leaves the Python SDK waiting forever. Here the timer fires at once and the
remaining attempts fail immediately with the last error, so the orchestration sees the failure.
"""

from __future__ import annotations

from datetime import datetime

from durableagent.local.orchestrations import actions, retry
from durableagent.local.orchestrations.model import (
    EpisodeOutcome,
    InstanceSnapshot,
    Message,
    SelfMessage,
    TimerWork,
)
from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.orchestration_json import EventType

_FAILURES = (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_FAILED)


def advance(snap: InstanceSnapshot, message: Message, out: EpisodeOutcome, *, at: datetime) -> None:
    """Apply one completion of a retry group's attempt or timer (already appended to history)."""
    event = message.event or {}
    kind = event.get("EventType")
    seq = event.get("TimerId") if kind == EventType.TIMER_FIRED else event.get("TaskScheduledId")
    state = out.state
    if not isinstance(seq, int) or seq not in state.retry_owner:
        return
    group_id = state.retry_owner[seq]
    group = state.retries.get(group_id)
    if group is None or group.current != seq:
        return
    if kind == EventType.TIMER_FIRED:
        if group.attempts >= group.max_attempts:
            del state.retries[group_id]  # the SDK now raises the last failure
            return
        attempt = state.next_seq
        state.next_seq += 1
        state.retry_owner[attempt] = group_id
        group.attempts += 1
        group.current = attempt
        group.waiting_timer = False
        if group.exhausted:
            _fail_at_once(group.kind, group.name, group.last_reason, group.last_details, attempt, out, at)
        elif group.kind == "activity":
            actions.schedule_activity(out, attempt, group.name, group.input_text, at)
        else:
            actions.start_child(
                snap, out, attempt, group.name, group.instance_id, group.input_text, at, group.version
            )
        return
    if kind not in _FAILURES:
        del state.retries[group_id]  # succeeded
        return
    group.last_reason = str(event.get("Reason") or "")
    details = event.get("Details")
    group.last_details = details if isinstance(details, str) else None
    delay = retry.next_delay(group, at)
    if delay is None:
        group.exhausted = True
        fire_at = at
    else:
        fire_at = at + delay
    timer = state.next_seq
    state.next_seq += 1
    state.retry_owner[timer] = group_id
    group.current = timer
    group.waiting_timer = True
    out.history.append(wire.timer_created(at, timer, fire_at))
    out.timers.append(TimerWork(timer, fire_at))


def _fail_at_once(
    kind: str, name: str, reason: str, details: str | None, seq: int, out: EpisodeOutcome, at: datetime
) -> None:
    if kind == "activity":
        out.history.append(wire.task_scheduled(at, seq, name, None))
        out.self_messages.append(SelfMessage(wire.task_failed(at, seq, reason, details)))
    else:
        out.history.append(wire.sub_orchestration_created(at, seq, name, "", None))
        out.self_messages.append(SelfMessage(wire.sub_orchestration_failed(at, seq, reason, details)))
