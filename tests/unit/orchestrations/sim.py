"""A deterministic, in-memory host around the pure orchestration engine, for unit tests.

It applies each :class:`EpisodeOutcome` the way the SQLite runtime does (history, state, messages,
timers, activities, entity calls, children) but with a fake clock and plain Python callables, and it
calls the REAL SDK orchestrator handler (``Orchestrator.create(fn)``) with the engine's JSON.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from azure.functions._durable_functions import df_dumps, df_loads

from durableagent.local.orchestrations import batching
from durableagent.local.orchestrations.batching import Batch
from durableagent.local.orchestrations.catalog import Catalog
from durableagent.local.orchestrations.episode import InvocationFailed, Invoker, complete, prepare
from durableagent.local.orchestrations.model import (
    EngineState,
    EpisodeOutcome,
    InstanceSnapshot,
    Message,
    MessageKind,
    ParentRef,
    RuntimeStatus,
)
from durableagent.local.wire import orchestration_json as wire


def run_episode(
    snap: InstanceSnapshot,
    batch: Batch,
    invoke: Invoker,
    *,
    now: datetime,
    catalog: Catalog,
    new_id: Callable[[], str],
) -> EpisodeOutcome:
    """:func:`prepare`, invoke synchronously, :func:`complete` (tests and synchronous callers)."""
    prepared = prepare(snap, batch, now=now)
    if prepared.request is None:
        return prepared.out
    answer: str | InvocationFailed
    try:
        answer = invoke(prepared.request)
    except InvocationFailed as failure:
        answer = failure
    return complete(prepared, answer, catalog=catalog, new_id=new_id)


T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
OrchestratorFn = Callable[[df.DurableOrchestrationContext], Generator[Any, Any, Any]]


@dataclass
class Instance:
    instance_id: str
    name: str
    execution_id: str
    input_text: str | None
    status: RuntimeStatus = RuntimeStatus.PENDING
    history: list[wire.HistoryEvent] = field(default_factory=list)
    state: EngineState = field(default_factory=EngineState)
    parent: ParentRef | None = None
    output_text: str | None = None
    custom_status_text: str | None = None
    executions: int = 1

    @property
    def output(self) -> Any:
        return json.loads(self.output_text) if self.output_text is not None else None


class Sim:
    """Runs orchestrations to quiescence; ``activities`` and ``entities`` are plain callables."""

    def __init__(
        self,
        orchestrators: dict[str, OrchestratorFn],
        activities: dict[str, Callable[[Any], Any]] | None = None,
        entities: dict[str, Callable[[str, str, Any], Any]] | None = None,
    ) -> None:
        self.handlers = {name: df.Orchestrator.create(fn) for name, fn in orchestrators.items()}
        self.activities = activities or {}
        self.entities = entities or {}
        self.catalog = Catalog.of(list(self.activities), list(self.handlers), list(self.entities))
        self.now = T0
        self.instances: dict[str, Instance] = {}
        self.inbox: list[tuple[str, Message, datetime]] = []  # (instance, message, visible at)
        self.activity_queue: list[tuple[str, str, int, str, str | None]] = []
        self.entity_log: list[tuple[str, str, Any, bool]] = []
        self.requests: list[dict[str, Any]] = []
        self.responses: list[wire.OrchestratorResponse] = []
        self.outcomes: list[EpisodeOutcome] = []
        self._ids = itertools.count(1)
        self._guids = itertools.count(1)

    # ------------------------------------------------------------------ client side

    def start(self, name: str, value: Any = None, instance_id: str = "inst") -> Instance:
        # The Python client double-encodes: body = json.dumps(df_dumps(value)); stored as that text.
        input_text = json.dumps(df_dumps(value)) if value is not None else None
        inst = Instance(instance_id, name, uuid.uuid4().hex, input_text)
        self.instances[instance_id] = inst
        self._post(instance_id, Message(0, MessageKind.START, inst.execution_id))
        return inst

    def raise_event(self, instance_id: str, name: str, data: Any) -> None:
        payload = json.dumps(json.dumps(data))  # client json.dumps + aiohttp json=, kept as a JSON string
        self._post(
            instance_id, Message(0, MessageKind.EVENT, None, wire.event_raised(self.now, name, payload))
        )

    def control(self, instance_id: str, kind: MessageKind, reason: str | None = None) -> None:
        self._post(instance_id, Message(0, kind, None, None, reason))

    # ------------------------------------------------------------------ engine side

    def _post(self, instance_id: str, message: Message, visible: datetime | None = None) -> None:
        numbered = Message(next(self._ids), message.kind, message.execution_id, message.event, message.reason)
        self.inbox.append((instance_id, numbered, visible or self.now))

    def _invoker(self, name: str) -> Callable[[str], str]:
        handler = self.handlers[name]

        def invoke(request: str) -> str:
            self.requests.append(json.loads(request))
            try:
                text = handler(func.OrchestrationContext(request))
            except Exception as exc:
                raise InvocationFailed(str(exc)) from exc
            self.responses.append(wire.parse_response(text))
            return text

        return invoke

    def step(self, instance_id: str) -> EpisodeOutcome | None:
        inst = self.instances[instance_id]
        ready = [m for (i, m, vis) in self.inbox if i == instance_id and vis <= self.now]
        batch = batching.select(inst.status, inst.execution_id, inst.state, ready)
        if not batch.take and not batch.drop:
            return None
        snap = InstanceSnapshot(
            inst.instance_id,
            inst.name,
            inst.execution_id,
            inst.status,
            inst.input_text,
            list(inst.history),
            inst.state,
            inst.parent,
        )
        out = run_episode(
            snap,
            batch,
            self._invoker(inst.name),
            now=self.now,
            catalog=self.catalog,
            new_id=lambda: f"guid-{next(self._guids)}",
        )
        self._apply(inst, out)
        return out if out.history or out.invoked else None

    def _apply(self, inst: Instance, out: EpisodeOutcome) -> None:
        self.outcomes.append(out)
        gone = set(out.consumed)
        self.inbox = [(i, m, v) for (i, m, v) in self.inbox if not (i == inst.instance_id and m.id in gone)]
        inst.history.extend(out.history)
        inst.state = out.state
        inst.status = out.status
        if out.custom_status_set:
            inst.custom_status_text = out.custom_status_text
        if out.status.is_terminal:
            inst.output_text = out.output_text
            self.inbox = [(i, m, v) for (i, m, v) in self.inbox if i != inst.instance_id]
        for seq in out.cancel_timers:
            self.inbox = [(i, m, v) for (i, m, v) in self.inbox if not _is_timer(i, m, inst, seq)]
        for activity in out.activities:
            self.activity_queue.append(
                (inst.instance_id, inst.execution_id, activity.seq, activity.name, activity.input_text)
            )
        for timer in out.timers:
            fired = wire.timer_fired(timer.fire_at, timer.seq, timer.fire_at)
            self._post(
                inst.instance_id, Message(0, MessageKind.COMPLETION, inst.execution_id, fired), timer.fire_at
            )
        for own in out.self_messages:
            self._post(inst.instance_id, Message(0, MessageKind.COMPLETION, inst.execution_id, own.event))
        for work in out.entity_messages:
            self._entity(inst, work.target, work.operation, work.input_text, work.is_signal, work.request_id)
        for child in out.children:
            kid = Instance(
                child.instance_id,
                child.name,
                uuid.uuid4().hex,
                child.input_text,
                parent=ParentRef(inst.instance_id, inst.execution_id, child.parent_seq),
            )
            self.instances[child.instance_id] = kid
            self._post(kid.instance_id, Message(0, MessageKind.START, kid.execution_id))
        if out.parent_event is not None and inst.parent is not None:
            event = dict(out.parent_event)
            self._post(
                inst.parent.instance_id, Message(0, MessageKind.COMPLETION, inst.parent.execution_id, event)
            )
        if out.new_execution_id is not None:
            inst.execution_id = out.new_execution_id
            inst.input_text = out.new_input_text
            inst.history = []
            inst.executions += 1
            self._post(inst.instance_id, Message(0, MessageKind.START, inst.execution_id))

    def _entity(
        self, inst: Instance, target: str, op: str, input_text: str | None, signal: bool, rid: str
    ) -> None:
        _, name, key = target.split("@")
        # What the entity's get_input() returns: json.loads of batch input, then df_loads.
        value = df_loads(json.loads(input_text)) if input_text is not None else None
        self.entity_log.append((f"@{name}@{key}", op, value, signal))
        try:
            result, error = self.entities[name](key, op, value), False
        except Exception as exc:
            result, error = str(exc), True
        if signal:
            return
        payload: dict[str, Any] = {"result": df_dumps(result)}
        if error:
            payload["exceptionType"] = "Error"
        event = wire.event_raised(self.now, rid, json.dumps(payload))
        self._post(inst.instance_id, Message(0, MessageKind.RESPONSE, None, event))

    def run_activities(self) -> bool:
        queue, self.activity_queue = self.activity_queue, []
        for instance_id, execution_id, seq, name, input_text in queue:
            try:
                value = self.activities[name](df_loads(input_text) if input_text is not None else None)
                event = wire.task_completed(self.now, seq, df_dumps(value))
            except Exception as exc:
                event = wire.task_failed(
                    self.now, seq, f"Activity function '{name}' failed: {exc}", type(exc).__name__
                )
            self._post(instance_id, Message(0, MessageKind.COMPLETION, execution_id, event))
        return bool(queue)

    def run(self, max_steps: int = 500, *, advance_timers: bool = True) -> None:
        """Episodes, activities and (optionally) the clock until nothing is left to do."""
        for _ in range(max_steps):
            progressed = False
            for instance_id in list(self.instances):
                while self.step(instance_id) is not None:
                    progressed = True
            progressed = self.run_activities() or progressed
            if progressed:
                continue
            future = [v for (_, _, v) in self.inbox if v > self.now]
            if not advance_timers or not future or not self._has_ready_after(min(future)):
                return
            self.now = min(future)
        raise AssertionError("simulation did not settle")

    def _has_ready_after(self, moment: datetime) -> bool:
        return any(v <= moment for (_, _, v) in self.inbox)

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def _is_timer(instance_id: str, message: Message, inst: Instance, seq: int) -> bool:
    event = message.event or {}
    return (
        instance_id == inst.instance_id
        and event.get("EventType") == wire.EventType.TIMER_FIRED
        and event.get("TimerId") == seq
        and message.execution_id == inst.execution_id
    )
