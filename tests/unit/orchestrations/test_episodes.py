"""The orchestration engine's pure core against the REAL SDK handler (no sockets, no database)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import pytest

from durableagent.local.orchestrations.model import Message, MessageKind, RuntimeStatus
from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.orchestration_json import EventType

from .sim import T0, Sim

# The SDK's codec announces once per process that df_loads ran without expected_type.
pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads was called:DeprecationWarning")


def _types(history: list[dict[str, Any]], kind: EventType) -> list[dict[str, Any]]:
    return [e for e in history if e["EventType"] == kind]


def double(x: int) -> int:
    return x * 2


def test_activity_chain_replays_without_rescheduling() -> None:
    calls: list[int] = []

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        start = ctx.get_input()
        a = yield ctx.call_activity("double", start)
        b = yield ctx.call_activity("double", a)
        return {"a": a, "b": b}

    def dbl(x: int) -> int:
        calls.append(x)
        return x * 2

    sim = Sim({"orch": orch}, {"double": dbl})
    inst = sim.start("orch", 3)
    sim.run()
    assert inst.status is RuntimeStatus.COMPLETED
    assert inst.output == {"a": 6, "b": 12}
    assert calls == [3, 6]  # each activity scheduled exactly once despite full-list replays
    scheduled = _types(inst.history, EventType.TASK_SCHEDULED)
    assert [e["EventId"] for e in scheduled] == [0, 1]
    assert [e["TaskScheduledId"] for e in _types(inst.history, EventType.TASK_COMPLETED)] == [0, 1]
    # the SDK answered with V3 and the full list on the last replay
    assert sim.responses[-1].schema_version == 2
    assert len(sim.responses[-1].actions) == 2
    assert sim.requests[0]["input"] == json.dumps(3)
    assert sim.requests[0]["isReplaying"] is False
    last = sim.requests[-1]["history"]
    assert last[0]["EventType"] == EventType.ORCHESTRATOR_STARTED
    assert last[1]["EventType"] == 0
    assert all(e["IsPlayed"] for e in last[:-2])
    assert not last[-1]["IsPlayed"]


def test_entity_call_and_signal() -> None:
    store: dict[str, int] = {}

    def counter(key: str, op: str, value: Any) -> Any:
        if op == "add":
            store[key] = store.get(key, 0) + value
        return store.get(key, 0)

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        eid = df.EntityId("Counter", "k1")
        ctx.signal_entity(eid, "add", 5)
        total = yield ctx.call_entity(eid, "add", 2)
        return total

    sim = Sim({"orch": orch}, entities={"counter": counter})
    inst = sim.start("orch")
    sim.run()
    assert inst.output == 7
    assert sim.entity_log == [("@counter@k1", "add", 5, True), ("@counter@k1", "add", 2, False)]
    sent = _types(inst.history, EventType.EVENT_SENT)
    assert [e["EventId"] for e in sent] == [0, 1]
    request = json.loads(sent[1]["Input"])
    assert request["op"] == "add"
    assert request["input"] == json.dumps("2")
    assert "signal" not in request
    raised = _types(inst.history, EventType.EVENT_RAISED)
    assert raised[0]["Name"] == request["id"]


def test_entity_call_error_raises_in_orchestrator() -> None:
    def broken(key: str, op: str, value: Any) -> Any:
        raise ValueError("nope")

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        try:
            yield ctx.call_entity(df.EntityId("Broken", "x"), "op")
        except Exception as exc:
            return f"caught {exc}"
        return "no error"

    sim = Sim({"orch": orch}, entities={"broken": broken})
    inst = sim.start("orch")
    sim.run()
    assert inst.output == "caught nope"


def test_durable_timer_fires_at_its_time() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(minutes=5))
        return ctx.current_utc_datetime.isoformat()

    sim = Sim({"orch": orch})
    inst = sim.start("orch")
    sim.run(advance_timers=False)
    assert inst.status is RuntimeStatus.RUNNING
    created = _types(inst.history, EventType.TIMER_CREATED)
    assert len(created) == 1
    assert created[0]["EventId"] == 0
    sim.run()
    assert inst.status is RuntimeStatus.COMPLETED
    assert inst.output == (T0 + timedelta(minutes=5)).isoformat()
    assert _types(inst.history, EventType.TIMER_FIRED)[0]["TimerId"] == 0


def test_long_timer_is_split_by_the_sdk() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        yield ctx.create_timer(ctx.current_utc_datetime + timedelta(days=10))
        return "late"

    sim = Sim({"orch": orch})
    inst = sim.start("orch")
    sim.run()
    assert inst.output == "late"
    assert len(_types(inst.history, EventType.TIMER_CREATED)) == 3  # 3 days, 3 days, 4 days
    assert sim.now == T0 + timedelta(days=10)


def test_external_event_is_a_str_because_of_double_encoding() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        value = yield ctx.wait_for_external_event("Approval")
        return {"type": type(value).__name__, "value": value}

    sim = Sim({"orch": orch})
    inst = sim.start("orch")
    sim.run()
    assert inst.status is RuntimeStatus.RUNNING
    assert inst.state.open_waits == {"Approval": 1}
    sim.raise_event("inst", "Approval", {"ok": True, "by": "alice"})
    sim.run()
    assert inst.output == {"type": "str", "value": '{"ok": true, "by": "alice"}'}


def test_event_raised_before_the_wait_is_held_then_delivered() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        first = yield ctx.call_activity("double", 1)
        value = yield ctx.wait_for_external_event("Go")
        return [first, value]

    sim = Sim({"orch": orch}, {"double": double})
    inst = sim.start("orch")
    sim.raise_event("inst", "Go", 1)
    sim.run()
    assert inst.output == [2, "1"]
    # delivered after the activity, not before (no SDK "duplicate completion" warning path)
    kinds = [e["EventType"] for e in inst.history]
    assert kinds.index(EventType.EVENT_RAISED) > kinds.index(EventType.TASK_COMPLETED)


@pytest.mark.parametrize(("approve", "expected"), [(True, "approved"), (False, "timed out")])
def test_task_any_event_or_timer(approve: bool, expected: str) -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        event = ctx.wait_for_external_event("Approval")
        timer = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
        winner = yield ctx.task_any([event, timer])
        if winner == event:
            timer.cancel()
            return "approved"
        return "timed out"

    sim = Sim({"orch": orch})
    inst = sim.start("orch")
    sim.run(advance_timers=False)
    if approve:
        sim.raise_event("inst", "Approval", True)
    sim.run()
    assert inst.output == expected
    assert not sim.inbox  # a cancelled timer leaves nothing behind
    if approve:
        assert sim.now == T0
        assert sim.outcomes[-1].cancel_timers == [0]


def test_task_all_fan_out_fan_in() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        tasks = [ctx.call_activity("double", i) for i in range(5)]
        results = yield ctx.task_all(tasks)
        return sum(results)

    sim = Sim({"orch": orch}, {"double": double})
    inst = sim.start("orch")
    sim.run()
    assert inst.output == 20
    assert [e["EventId"] for e in _types(inst.history, EventType.TASK_SCHEDULED)] == [0, 1, 2, 3, 4]


def test_sub_orchestration_completes_and_fails() -> None:
    def child(ctx: df.DurableOrchestrationContext) -> Any:
        value = ctx.get_input()
        if value["fail"]:
            raise ValueError("child broke")
        result = yield ctx.call_activity("double", value["n"])
        return result

    def parent(ctx: df.DurableOrchestrationContext) -> Any:
        ok = yield ctx.call_sub_orchestrator("child", {"n": 4, "fail": False})
        try:
            yield ctx.call_sub_orchestrator("child", {"n": 0, "fail": True}, "kid-2")
        except Exception as exc:
            return {"ok": ok, "error": str(exc)}
        return {"ok": ok}

    sim = Sim({"parent": parent, "child": child}, {"double": double})
    inst = sim.start("parent")
    sim.run()
    assert inst.status is RuntimeStatus.COMPLETED
    assert inst.output["ok"] == 8
    assert "child broke" in inst.output["error"]
    created = _types(inst.history, EventType.SUB_ORCHESTRATION_CREATED)
    assert created[0]["InstanceId"] == f"{inst.execution_id}:0"
    assert created[1]["InstanceId"] == "kid-2"
    assert sim.instances["kid-2"].status is RuntimeStatus.FAILED
    assert sim.instances["kid-2"].output_text.startswith("Orchestrator function 'child' failed: child broke")


def _flaky(failures: int) -> tuple[list[int], Any]:
    attempts: list[int] = []

    def flaky(value: int) -> int:
        attempts.append(value)
        if len(attempts) <= failures:
            raise RuntimeError(f"attempt {len(attempts)} failed")
        return value + 100

    return attempts, flaky


def test_retry_succeeds_after_failures_with_backoff() -> None:
    attempts, flaky = _flaky(2)

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        opts = df.RetryOptions(1000, 3)
        a, b = yield ctx.task_all(
            [ctx.call_activity_with_retry("flaky", opts, 1), ctx.call_activity("double", 5)]
        )
        c = yield ctx.call_activity("double", a)
        return [a, b, c]

    sim = Sim({"orch": orch}, {"flaky": flaky, "double": double})
    inst = sim.start("orch")
    sim.run()
    assert inst.output == [101, 10, 202]
    assert len(attempts) == 3
    timers = _types(inst.history, EventType.TIMER_CREATED)
    assert [t["EventId"] for t in timers] == [2, 4]
    scheduled = [(e["EventId"], e["Name"]) for e in _types(inst.history, EventType.TASK_SCHEDULED)]
    assert scheduled == [(0, "flaky"), (1, "double"), (3, "flaky"), (5, "flaky"), (6, "double")]
    assert sim.now == T0 + timedelta(seconds=2)


def test_retry_exhausted_raises_last_failure() -> None:
    attempts, flaky = _flaky(10)

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        try:
            yield ctx.call_activity_with_retry("flaky", df.RetryOptions(500, 2), 1)
        except Exception as exc:
            return str(exc)
        return "no error"

    sim = Sim({"orch": orch}, {"flaky": flaky})
    inst = sim.start("orch")
    sim.run()
    assert len(attempts) == 2
    assert inst.output.startswith("Activity function 'flaky' failed: attempt 2 failed")
    assert sim.now == T0 + timedelta(milliseconds=500)  # the final back-compat timer fires at once


def test_retry_options_backoff_and_cap_from_the_wire() -> None:
    _attempts, flaky = _flaky(3)

    class Options(df.RetryOptions):
        def to_json(self) -> dict[str, Any]:
            doc: dict[str, Any] = super().to_json()
            doc.update(backoffCoefficient=2.0, maxRetryIntervalInMilliseconds=3000)
            return doc

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        result = yield ctx.call_activity_with_retry("flaky", Options(1000, 4), 7)
        return result

    sim = Sim({"orch": orch}, {"flaky": flaky})
    inst = sim.start("orch")
    sim.run()
    assert inst.output == 107
    assert sim.now == T0 + timedelta(seconds=1 + 2 + 3)  # 1 s, 2 s, then capped at 3 s


def test_sub_orchestration_with_retry() -> None:
    runs: list[str] = []

    def child(ctx: df.DurableOrchestrationContext) -> Any:
        if not ctx.is_replaying:
            runs.append(ctx.instance_id)
        if len(runs) < 2:
            raise ValueError("first child fails")
        return "child ok"
        yield  # pragma: no cover - makes this a generator

    def parent(ctx: df.DurableOrchestrationContext) -> Any:
        result = yield ctx.call_sub_orchestrator_with_retry("child", df.RetryOptions(1000, 3), None)
        return result

    sim = Sim({"parent": parent, "child": child})
    inst = sim.start("parent")
    sim.run()
    assert inst.output == "child ok"
    assert runs == [f"{inst.execution_id}:0", f"{inst.execution_id}:2"]


def test_continue_as_new_carries_input_and_held_events() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        n = ctx.get_input()
        if n < 3:
            yield ctx.call_activity("double", n)
            ctx.continue_as_new(n + 1)
            return None
        value = yield ctx.wait_for_external_event("Final")
        return [n, value]

    sim = Sim({"orch": orch}, {"double": double})
    inst = sim.start("orch", 0)
    sim.raise_event("inst", "Final", "done")  # raised during generation 0, consumed by generation 3
    sim.run()
    assert inst.status is RuntimeStatus.COMPLETED
    assert inst.output == [3, '"done"']
    assert inst.executions == 4
    assert inst.history[1]["EventType"] == EventType.EXECUTION_STARTED
    assert inst.history[1]["Input"] == '"3"'


def test_custom_status_and_failure() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        ctx.set_custom_status({"step": 1})
        yield ctx.call_activity("double", 1)
        raise ValueError("boom")

    sim = Sim({"orch": orch}, {"double": double})
    inst = sim.start("orch")
    sim.run()
    assert inst.status is RuntimeStatus.FAILED
    assert inst.custom_status_text == json.dumps({"step": 1})
    assert inst.output_text == "Orchestrator function 'orch' failed: boom"
    assert _types(inst.history, EventType.EXECUTION_COMPLETED)[0]["OrchestrationStatus"] == "Failed"


def test_unknown_activity_fails_like_the_extension() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        yield ctx.call_activity("missing", 1)

    sim = Sim({"orch": orch}, {"double": double})
    inst = sim.start("orch")
    sim.run()
    assert inst.status is RuntimeStatus.FAILED
    assert (
        "The function 'missing' doesn't exist, is disabled, or is not an activity function."
        in inst.output_text
    )


def test_non_determinism_is_detected() -> None:
    flips = iter(["double", "triple", "triple"])

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        yield ctx.call_activity(next(flips), 1)
        yield ctx.call_activity("double", 2)

    sim = Sim({"orch": orch}, {"double": double, "triple": double})
    inst = sim.start("orch")
    sim.run()
    assert inst.status is RuntimeStatus.FAILED
    assert inst.output_text.startswith("Non-Deterministic workflow detected")


def test_terminate_and_suspend_resume() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        value = yield ctx.wait_for_external_event("Go")
        return value

    sim = Sim({"orch": orch})
    inst = sim.start("orch")
    sim.run()
    sim.control("inst", MessageKind.SUSPEND, "pause")
    sim.run()
    assert inst.status is RuntimeStatus.SUSPENDED
    sim.raise_event("inst", "Go", 1)
    sim.run()
    assert inst.status is RuntimeStatus.SUSPENDED  # the event waits for the resume
    sim.control("inst", MessageKind.RESUME, "go on")
    sim.run()
    assert inst.status is RuntimeStatus.COMPLETED
    assert inst.output == "1"

    other = sim.start("orch", instance_id="other")
    sim.run()
    sim.control("other", MessageKind.TERMINATE, "stop please")
    sim.run()
    assert other.status is RuntimeStatus.TERMINATED
    assert other.output_text == "stop please"
    assert _types(other.history, EventType.EXECUTION_TERMINATED)[0]["Input"] == "stop please"


def test_retry_failure_and_a_resuming_completion_in_one_episode() -> None:
    """The retry's timer number must come after the actions the other completion lets the code issue."""
    _attempts, flaky = _flaky(1)

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        retried = ctx.call_activity_with_retry("flaky", df.RetryOptions(1000, 3), 1)
        quick = ctx.call_activity("double", 2)
        first = yield ctx.task_any([retried, quick])
        after = yield ctx.call_activity("double", first.result)
        late = yield retried
        return [after, late]

    sim = Sim({"orch": orch}, {"flaky": flaky, "double": double})
    inst = sim.start("orch")
    sim.run()
    assert inst.output == [8, 101]
    # seq 0 flaky, 1 double, then the resumed code's double (2) BEFORE the retry timer (3), retry (4)
    scheduled = [(e["EventId"], e["Name"]) for e in _types(inst.history, EventType.TASK_SCHEDULED)]
    assert scheduled == [(0, "flaky"), (1, "double"), (2, "double"), (4, "flaky")]
    assert [e["EventId"] for e in _types(inst.history, EventType.TIMER_CREATED)] == [3]


def test_retry_timeout_fails_fast_instead_of_hanging() -> None:
    attempts, flaky = _flaky(10)

    class Options(df.RetryOptions):
        def to_json(self) -> dict[str, Any]:
            doc: dict[str, Any] = super().to_json()
            doc["retryTimeoutInMilliseconds"] = 1500
            return doc

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        try:
            yield ctx.call_activity_with_retry("flaky", Options(1000, 5), 1)
        except Exception as exc:
            return str(exc)
        return "no error"

    sim = Sim({"orch": orch}, {"flaky": flaky})
    inst = sim.start("orch")
    sim.run()
    # attempts at 0 s, 1 s and 2 s; at 2 s the 1.5 s budget is spent: attempts 4 and 5 fail at once
    assert len(attempts) == 3
    assert inst.status is RuntimeStatus.COMPLETED
    assert inst.output.startswith("Activity function 'flaky' failed: attempt 3 failed")
    assert sim.now == T0 + timedelta(seconds=2)


def test_events_raised_up_front_are_consumed_one_wait_at_a_time() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        total = 0
        for _ in range(3):
            value = yield ctx.wait_for_external_event("Add")
            total += int(json.loads(value))
        return total

    sim = Sim({"orch": orch})
    inst = sim.start("orch")
    for n in (1, 2, 3):
        sim.raise_event("inst", "Add", n)
    sim.run()
    assert inst.output == 6
    assert inst.state.delivered == {"Add": 3}


def test_entity_answer_for_an_earlier_execution_is_dropped() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        value = yield ctx.wait_for_external_event("Go")
        return value

    sim = Sim({"orch": orch})
    inst = sim.start("orch")
    sim.run()
    stale = wire.event_raised(T0, "not-a-pending-call", '{"result": "1"}')
    sim._post("inst", Message(0, MessageKind.RESPONSE, None, stale))
    sim.run()
    assert inst.status is RuntimeStatus.RUNNING
    assert not any(e.get("Name") == "not-a-pending-call" for e in inst.history)
    assert not sim.inbox
