"""Which pending messages one episode consumes, and in what order.

Why: DTFx appends every arriving message to history and lets the replay sort things out. Two
details of the Python SDK make a local engine choose more carefully:

* An external event raised before the orchestrator waits for it makes the SDK warn ("Potential
  duplicate Task completion") and defer it; the extension buffers such events and re-sends them on
  ContinueAsNew. The engine instead *holds* an external event until a ``WaitForExternalEvent`` for
  its name is open; the outcome is the same, and held events naturally carry over ContinueAsNew.
* The SDK allocates sequence numbers for retry timers and re-attempts while it processes the
  completion that triggers them, interleaved with the user code's own new tasks. Delivering at most
  one retry-related completion per episode, *last*, makes that allocation order known: first the
  new actions of the response, then the retry's number.

Invariant: control messages (terminate, suspend, resume) are processed on their own, without
invoking the orchestrator; terminate wins over everything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from durableagent.local.orchestrations.model import EngineState, Message, MessageKind, RuntimeStatus
from durableagent.local.wire.orchestration_json import EventType

MAX_BATCH = 100
_CONTROL = (MessageKind.TERMINATE, MessageKind.SUSPEND, MessageKind.RESUME)


@dataclass
class Batch:
    """The messages of one episode (in delivery order) and the ones to delete unprocessed."""

    take: list[Message] = field(default_factory=list)
    drop: list[Message] = field(default_factory=list)

    @property
    def control(self) -> Message | None:
        """The control message when this episode is a terminate/suspend/resume."""
        if len(self.take) == 1 and self.take[0].kind in _CONTROL:
            return self.take[0]
        return None


def completion_seq(message: Message) -> int | None:
    """The sequence number a completion message resolves (TaskScheduledId or TimerId)."""
    event = message.event or {}
    if event.get("EventType") == EventType.TIMER_FIRED:
        value = event.get("TimerId")
    else:
        value = event.get("TaskScheduledId")
    return value if isinstance(value, int) else None


def select(
    status: RuntimeStatus, execution_id: str, state: EngineState, messages: Sequence[Message]
) -> Batch:
    """Choose the next episode's messages from ``messages`` (ordered by arrival)."""
    batch = Batch()
    live: list[Message] = []
    for message in messages:
        if message.execution_id is not None and message.execution_id != execution_id:
            batch.drop.append(message)
        else:
            live.append(message)
    if status.is_terminal:
        batch.drop.extend(live)
        return batch
    for message in live:
        if message.kind is MessageKind.TERMINATE:
            batch.take = [message]
            return batch
    if status is RuntimeStatus.SUSPENDED:
        return _select_suspended(live, batch)
    if status is RuntimeStatus.PENDING or status is RuntimeStatus.CONTINUED_AS_NEW:
        # Only ExecutionStarted may open an execution; everything else waits for the next episode.
        for message in live:
            if message.kind is MessageKind.START:
                batch.take = [message]
                break
            if message.kind in (MessageKind.SUSPEND, MessageKind.RESUME):
                batch.take = [message] if message.kind is MessageKind.SUSPEND else []
                if message.kind is MessageKind.RESUME:
                    batch.drop.append(message)
                break
        return batch
    waits = dict(state.open_waits)
    retry: Message | None = None
    for message in live:
        if len(batch.take) >= MAX_BATCH:
            break
        kind = message.kind
        if kind in _CONTROL:
            if kind is MessageKind.RESUME:
                batch.drop.append(message)  # not suspended: nothing to resume
                continue
            if not batch.take and retry is None:
                batch.take = [message]
            break
        if kind is MessageKind.START:
            batch.drop.append(message)  # a stale start for an execution already running
        elif kind is MessageKind.EVENT:
            name = (message.event or {}).get("Name")
            if isinstance(name, str) and waits.get(name, 0) > 0:
                waits[name] -= 1
                batch.take.append(message)
        elif kind is MessageKind.RESPONSE and (message.event or {}).get("Name") not in state.calls:
            batch.drop.append(message)  # the answer to a call of an earlier execution
        elif kind is MessageKind.COMPLETION and completion_seq(message) in state.retry_owner:
            if retry is None:
                retry = message
        else:
            batch.take.append(message)
    if retry is not None and batch.control is None:
        batch.take.append(retry)
    return batch


def _select_suspended(live: Sequence[Message], batch: Batch) -> Batch:
    for message in live:
        if message.kind is MessageKind.RESUME:
            batch.take = [message]
            return batch
        if message.kind is MessageKind.SUSPEND:
            batch.drop.append(message)  # already suspended
    return batch
