"""Data the orchestration engine keeps per instance, and what one episode decides.

Why: the episode logic is pure (history + pending messages in, history events + work out) so it
can be tested against the real SDK without a database or sockets. These plain records are the
seam between that logic, the SQLite store and the runtime that executes the work.

Invariant: :class:`EngineState` is everything beyond the history that replay needs to map the SDK's
action list to sequence numbers (the SDK's retry timers and re-attempts take sequence numbers that
never appear in its action list); it is committed with the history in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from durableagent.local.wire.orchestration_json import HistoryEvent


class RuntimeStatus(str, Enum):
    """``OrchestrationRuntimeStatus`` names, as the HTTP API spells them."""

    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    SUSPENDED = "Suspended"

    @property
    def is_terminal(self) -> bool:
        """Whether the instance has ended (Completed, Failed, Canceled or Terminated)."""
        return self in _TERMINAL


_TERMINAL = {RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.CANCELED, RuntimeStatus.TERMINATED}


class MessageKind(str, Enum):
    """What a pending message asks of the instance."""

    START = "start"  # run the first episode of ``execution_id``
    EVENT = "event"  # external event (EventRaised); held back until the orchestrator waits for it
    RESPONSE = "response"  # entity call result (EventRaised named by the request id)
    COMPLETION = "completion"  # TaskCompleted/Failed, TimerFired, SubOrchestrationInstanceCompleted/Failed
    TERMINATE = "terminate"
    SUSPEND = "suspend"
    RESUME = "resume"


@dataclass(frozen=True)
class Message:
    """One committed, not yet consumed message for an instance (``event`` is a history event)."""

    id: int
    kind: MessageKind
    execution_id: str | None = None
    event: HistoryEvent | None = None
    reason: str | None = None


@dataclass
class RetryGroup:
    """A ``…WithRetry`` action in flight (DTFx ``RetryInterceptor`` mirrored step by step)."""

    kind: str  # "activity" | "orchestrator"
    name: str
    input_text: str | None
    instance_id: str | None
    first_interval_ms: float
    max_attempts: int
    backoff: float
    max_interval_ms: float | None
    timeout_ms: float | None
    first_attempt_at: str
    attempts: int = 1
    current: int = -1
    waiting_timer: bool = False
    exhausted: bool = False
    last_reason: str = ""
    last_details: str | None = None
    version: str | None = None  # sub-orchestrators: the version each attempt is created with


@dataclass
class EngineState:
    """Replay bookkeeping of the current execution (JSON in the instance row)."""

    issued: int = 0  # flattened actions already handled
    next_seq: int = 0
    action_seqs: list[int] = field(default_factory=list)  # seq per issued action (-1: none)
    retries: dict[int, RetryGroup] = field(default_factory=dict)  # by the group's first seq
    retry_owner: dict[int, int] = field(default_factory=dict)  # attempt/timer seq -> group
    open_waits: dict[str, int] = field(default_factory=dict)  # event name -> waiters not yet served
    delivered: dict[str, int] = field(default_factory=dict)  # event name -> events delivered
    calls: list[str] = field(default_factory=list)  # request ids of entity calls not yet answered

    def to_json(self) -> str:
        """The JSON kept in the instance row (integer keys written as strings)."""
        doc = asdict(self)
        doc["retries"] = {str(k): v for k, v in doc["retries"].items()}
        doc["retry_owner"] = {str(k): v for k, v in doc["retry_owner"].items()}
        return json.dumps(doc)

    @classmethod
    def from_json(cls, text: str | None) -> EngineState:
        """Parse :meth:`to_json` output; empty or None text gives a fresh state."""
        if not text:
            return cls()
        doc: dict[str, Any] = json.loads(text)
        return cls(
            issued=int(doc.get("issued", 0)),
            next_seq=int(doc.get("next_seq", 0)),
            action_seqs=[int(x) for x in doc.get("action_seqs", [])],
            retries={int(k): RetryGroup(**v) for k, v in doc.get("retries", {}).items()},
            retry_owner={int(k): int(v) for k, v in doc.get("retry_owner", {}).items()},
            open_waits={str(k): int(v) for k, v in doc.get("open_waits", {}).items()},
            delivered={str(k): int(v) for k, v in doc.get("delivered", {}).items()},
            calls=[str(x) for x in doc.get("calls", [])],
        )

    def copy(self) -> EngineState:
        """A deep copy, so an episode can change it and still be discarded."""
        return EngineState.from_json(self.to_json())


@dataclass(frozen=True)
class ParentRef:
    """Where a sub-orchestration reports its end."""

    instance_id: str
    execution_id: str
    seq: int


@dataclass(frozen=True)
class InstanceSnapshot:
    """An instance as read at the start of an episode."""

    instance_id: str
    name: str
    execution_id: str
    status: RuntimeStatus
    input_text: str | None
    history: list[HistoryEvent]
    state: EngineState
    parent: ParentRef | None = None
    created_at: datetime | None = None
    version: str | None = None  # ExecutionStarted.Version (context.version)


@dataclass(frozen=True)
class ActivityWork:
    """An activity to run: the function ``name`` with ``input_text``; its result answers ``seq``."""

    seq: int
    name: str
    input_text: str | None


@dataclass(frozen=True)
class TimerWork:
    """A timer numbered ``seq`` to fire at ``fire_at`` (a delayed COMPLETION message)."""

    seq: int
    fire_at: datetime


@dataclass(frozen=True)
class EntityWork:
    """An entity call or signal sent from the orchestration; a call's answer names ``request_id``."""

    target: str  # "@name@key"
    operation: str
    input_text: str | None  # what the entity sees in batch[i].input
    is_signal: bool
    request_id: str


@dataclass(frozen=True)
class ChildStart:
    """A sub-orchestration to start; its end is reported to the parent as ``parent_seq``."""

    instance_id: str
    name: str
    input_text: str | None
    parent_seq: int
    version: str | None = None  # call_sub_orchestrator(version=...); None: defaultVersion


@dataclass(frozen=True)
class SelfMessage:
    """A completion the episode produces for its own instance (a short-circuited retry attempt)."""

    event: HistoryEvent


@dataclass
class EpisodeOutcome:
    """Everything one episode commits, in one transaction."""

    consumed: list[int]
    history: list[HistoryEvent]  # appended to the current execution's history
    status: RuntimeStatus
    state: EngineState
    output_text: str | None = None
    custom_status_text: str | None = None
    custom_status_set: bool = False
    activities: list[ActivityWork] = field(default_factory=list)
    timers: list[TimerWork] = field(default_factory=list)
    cancel_timers: list[int] = field(default_factory=list)
    entity_messages: list[EntityWork] = field(default_factory=list)
    children: list[ChildStart] = field(default_factory=list)
    self_messages: list[SelfMessage] = field(default_factory=list)
    parent_event: HistoryEvent | None = None  # sent to ParentRef when the instance ends
    new_execution_id: str | None = None  # ContinueAsNew: the next execution ...
    new_input_text: str | None = None  # ... and its input (JSON text)
    invoked: bool = True
