"""Agents as orchestration steps, through the REAL SDK orchestrator, engine core and session entity."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func
import pytest
from agent_framework import AgentResponse, Content, Message
from pydantic import BaseModel

from durableagent.local.orchestrations.model import RuntimeStatus
from durableagent.orchestration import AgentRunError, DurableAIAgent, get_agent
from durableagent.orchestration.request import next_request_id

from .agent_sim import AgentSim

pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads was called:DeprecationWarning")


class Verdict(BaseModel):
    score: int
    reason: str


def _call_actions(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The CallEntity / SignalEntity actions of an orchestrator response, flattened."""
    out: list[dict[str, Any]] = []

    def walk(action: dict[str, Any]) -> None:
        if action.get("actionType") in (7, 9):
            out.append(action)
        for child in action.get("compoundActions") or ():
            walk(child)

    for group in response["actions"]:
        for action in group:
            walk(action)
    return out


def test_chain_replays_with_the_same_request_ids_and_runs_each_turn_once() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        writer = agents.app.get_agent(ctx, "Writer")
        session = writer.create_session()
        first = yield writer.run("Write a slogan about tea.", session=session)
        second = yield writer.run(f"Shorter: {first.text}", session=session)
        assert isinstance(second, AgentResponse)
        return {"key": session.key, "first": first.text, "second": second.text}

    agents = AgentSim({"orch": orch})
    inst = agents.sim.start("orch", instance_id="chain-1")
    agents.sim.run()
    assert inst.status is RuntimeStatus.COMPLETED
    key = inst.output["key"]
    assert agents.turns("Writer", key) == 2
    assert agents.models["Writer"].asked == ["Write a slogan about tea.", f"Shorter: {inst.output['first']}"]
    assert "offline reply #2" in inst.output["second"]  # the second turn saw the first (same session)
    ids = agents.request_ids()
    assert len(ids) == 2
    assert len(set(ids)) == 2
    assert all(i.startswith("orch-") for i in ids)

    # Replay the last episode twice from its history: the same actions, the same request ids.
    last = json.dumps(agents.sim.requests[-1])
    handler = df.Orchestrator.create(orch)
    replays = [json.loads(handler(func.OrchestrationContext(last))) for _ in range(2)]
    inputs = [[json.loads(a["input"])["correlationId"] for a in _call_actions(r)] for r in replays]
    assert inputs == [ids, ids]
    assert all(r["isDone"] for r in replays)
    assert replays[0]["output"] == replays[1]["output"]

    # A redelivered call (same request id) is answered from the ledger: the agent does not run again.
    value = next(v for (_, op, v, _) in agents.sim.entity_log if op == "run_agent")
    again = agents.sim.entities["writer"](key, "run_agent", value)
    assert again["correlationId"] == ids[0]
    assert again["response"]["messages"]
    assert len(agents.models["Writer"].asked) == 2
    assert agents.turns("Writer", key) == 2


def test_a_new_instance_gets_new_request_ids() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        result = yield agents.app.get_agent(ctx, "Writer").run("hello")
        return result.text

    agents = AgentSim({"orch": orch})
    agents.sim.start("orch", instance_id="a")
    agents.sim.start("orch", instance_id="b")
    agents.sim.run()
    ids = agents.request_ids()
    assert len(ids) == 2
    assert ids[0] != ids[1]


def test_structured_output_pydantic_model_and_json_schema() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        writer = agents.app.get_agent(ctx, "Writer")
        typed = yield writer.run("Rate 42 please", options={"response_format": Verdict})
        assert isinstance(typed.value, Verdict)
        plain = yield writer.run("Tell me about Paris", options={"response_format": schema})
        return {"score": typed.value.score, "plain": plain.value}

    agents = AgentSim({"orch": orch})
    inst = agents.sim.start("orch")
    agents.sim.run()
    assert inst.status is RuntimeStatus.COMPLETED, inst.output
    assert inst.output == {"score": 42, "plain": {"city": "Paris"}}


def test_failures_raise_typed_errors_into_the_orchestrator() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        writer = agents.app.get_agent(ctx, "Writer")
        caught = []
        for message in ("#fail:rejected", "#bad-json"):
            try:
                yield writer.run(message, options={"response_format": Verdict})
            except AgentRunError as error:
                caught.append(
                    {"status": error.status, "type": error.problem_type, "id": error.correlation_id}
                )
        return caught

    agents = AgentSim({"orch": orch})
    inst = agents.sim.start("orch")
    agents.sim.run()
    assert inst.status is RuntimeStatus.COMPLETED, inst.output
    rejected, invalid = inst.output
    assert rejected["status"] == 400
    assert rejected["type"].endswith("/upstream-rejected")
    assert invalid["status"] == 422
    assert invalid["type"].endswith("/structured-output-invalid")
    assert [rejected["id"], invalid["id"]] == agents.request_ids()


def test_an_uncaught_failure_fails_the_orchestration_with_the_problem() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        yield agents.app.get_agent(ctx, "Writer").run("#fail:error")
        return "unreachable"

    agents = AgentSim({"orch": orch})
    inst = agents.sim.start("orch")
    agents.sim.run()
    assert inst.status is RuntimeStatus.FAILED
    assert inst.output_text is not None
    assert "agent-failed" in inst.output_text
    assert "500" in inst.output_text
    assert "SECRET" not in inst.output_text  # the model's exception text never reaches the orchestration


def test_fire_and_forget_signals_and_does_not_wait() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        writer = agents.app.get_agent(ctx, "Writer")
        session = writer.get_session("shared-1")
        accepted = yield writer.run("note this", session=session, options={"wait_for_response": False})
        return {"text": accepted.text, "id": accepted.response_id}

    agents = AgentSim({"orch": orch})
    inst = agents.sim.start("orch")
    agents.sim.run()
    assert inst.status is RuntimeStatus.COMPLETED
    [(target, op, value, is_signal)] = agents.sim.entity_log
    assert (target, op, is_signal) == ("@writer@shared-1", "run_agent", True)
    assert inst.output["id"] == value["correlationId"]
    assert "accepted" in inst.output["text"]
    assert agents.turns("Writer", "shared-1") == 1  # the signalled turn ran and was recorded


def test_task_all_runs_two_agents_and_tool_calls_can_be_disabled() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        writer, editor = get_agent(ctx, "Writer"), DurableAIAgent(ctx, "editor")
        results = yield ctx.task_all(
            [
                writer.run("What is the weather in Oslo?"),
                editor.run("What is the weather in Oslo?", options={"enable_tool_calls": False}),
            ]
        )
        return [r.text for r in results]

    agents = AgentSim({"orch": orch})
    inst = agents.sim.start("orch")
    agents.sim.run()
    tooled, plain = inst.output
    assert "temperature=72" in tooled  # the writer called get_weather
    assert plain.startswith("You said:")  # the editor was not allowed to
    sent = [len(out.entity_messages) for out in agents.sim.outcomes if out.entity_messages]
    assert sent == [2]  # both calls left in the same episode: they run concurrently


def test_unknown_agent_is_a_value_error_naming_the_registered_agents() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        agents.app.get_agent(ctx, "Nobody")
        yield ctx.call_activity("never", None)

    agents = AgentSim({"orch": orch})
    with pytest.raises(ValueError, match=r"'Nobody' is not registered.*Editor, Writer"):
        agents.app.get_agent(object(), "Nobody")  # type: ignore[arg-type]
    inst = agents.sim.start("orch")
    agents.sim.run()
    assert inst.status is RuntimeStatus.FAILED
    assert "Registered agents: Editor, Writer" in (inst.output_text or "")


def test_bad_run_arguments_are_value_errors() -> None:
    agents = AgentSim({})
    proxy = DurableAIAgent(object(), "Writer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stream"):
        proxy.run("x", stream=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unsupported run options"):
        proxy.run("x", options={"temperature": 1})
    with pytest.raises(ValueError, match="response_format"):
        proxy.run("x", options={"response_format": 3})
    with pytest.raises(ValueError, match="needs a message"):
        proxy.run([])
    call = Message(role="user", contents=[Content.from_function_call(call_id="c", name="f", arguments={})])
    with pytest.raises(ValueError, match="text messages only"):
        proxy.run([call])
    with pytest.raises(ValueError, match="session key"):
        proxy.get_session("bad key")
    assert agents.app.agents


class _Event:
    def __init__(self, event_type: int, timestamp: str) -> None:
        self.event_type, self.timestamp = event_type, timestamp


class _Context:
    def __init__(self, instance_id: str, started: str) -> None:
        self.instance_id = instance_id
        self.histories = [_Event(12, "t0"), _Event(0, started)]  # OrchestratorStarted, ExecutionStarted


def test_request_ids_depend_on_instance_execution_and_position_only() -> None:
    def ids(instance_id: str, started: str) -> list[str]:
        context = _Context(instance_id, started)
        return [next_request_id(context) for _ in range(3)]

    first = ids("i", "2026-01-01T00:00:00.000001Z")
    assert ids("i", "2026-01-01T00:00:00.000001Z") == first  # a replay: a fresh context, same ids
    assert len(set(first)) == 3  # the position counts
    assert set(first).isdisjoint(ids("i", "2026-01-01T00:00:00.000002Z"))  # continue_as_new generation
    assert set(first).isdisjoint(ids("j", "2026-01-01T00:00:00.000001Z"))  # another instance


def test_the_0_0_2b1_names_and_keywords() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        agent = DurableAIAgent(ctx, "Writer")
        thread = agent.get_new_thread()
        first = yield agent.run("Rate 7", thread=thread, response_format=Verdict)
        second = yield agent.run("again", thread=thread, enable_tool_calls=False)
        return {"key": thread.key, "score": first.value.score, "second": second.text}

    agents = AgentSim({"orch": orch})
    inst = agents.sim.start("orch")
    agents.sim.run()
    assert inst.status is RuntimeStatus.COMPLETED, inst.output_text
    assert inst.output["score"] == 7
    assert "offline reply #2" in inst.output["second"]
    assert agents.turns("Writer", inst.output["key"]) == 2


def test_an_agent_task_races_a_timer_in_task_any() -> None:
    def orch(ctx: df.DurableOrchestrationContext) -> Any:
        run = agents.app.get_agent(ctx, "Writer").run("quick")
        timer = ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
        winner = yield ctx.task_any([run, timer])
        assert winner is run
        timer.cancel()
        return winner.result.text

    agents = AgentSim({"orch": orch})
    inst = agents.sim.start("orch")
    agents.sim.run(advance_timers=False)
    assert inst.status is RuntimeStatus.COMPLETED, inst.output_text
    assert inst.output.startswith("You said: 'quick'")
