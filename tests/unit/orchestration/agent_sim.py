"""Agent orchestrations in the engine simulator: the REAL SDK orchestrator, engine core and session entity.

``AgentSim`` plugs an ``AgentFunctionApp``'s session entities (``SessionEntity`` over an in-memory
conversation store, the offline model) into ``tests/unit/orchestrations/sim.Sim`` as its entity
callables, so an orchestrator's ``yield agent.run(...)`` goes through the SDK's CallEntity action,
the engine's entity request, the entity's ledger and the agent, and back as the SDK's EventRaised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent_framework import Agent, Message

from durableagent import AgentFunctionApp
from durableagent.conversation.memory import MemoryConversationStore
from durableagent.entity.history import HistoryCache
from durableagent.entity.session import DELETE, SessionEntity
from durableagent.entity.turn import TurnRunner
from durableagent.offline.model import OfflineChatClient
from tests.agent_loop_sync import run_sync

from ..orchestrations.sim import OrchestratorFn, Sim


def get_weather(location: str) -> dict[str, Any]:
    """Get the weather for a location."""
    return {"location": location, "temperature": 72}


class CountingModel(OfflineChatClient):
    """The offline model (faults on), recording the user message of every model request."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(faults=True, **kwargs)
        self.asked: list[str] = []

    def _inner_get_response(
        self, *, messages: Sequence[Message], stream: bool, options: Any, **kw: Any
    ) -> Any:
        self.asked.append(messages[-1].text)
        return super()._inner_get_response(messages=messages, stream=stream, options=options, **kw)


class AgentSim:
    """An app with agents ``names`` on counting offline models, and a simulator running ``orchestrators``."""

    def __init__(
        self, orchestrators: dict[str, OrchestratorFn], names: Sequence[str] = ("Writer", "Editor")
    ) -> None:
        self.models = {name: CountingModel() for name in names}
        self.store = MemoryConversationStore()
        agents = [Agent(self.models[n], name=n, instructions="Be brief.", tools=[get_weather]) for n in names]
        self.app = AgentFunctionApp(agents=agents, conversation_store=self.store)
        cache = HistoryCache()
        self.entities = {
            n.lower(): SessionEntity(TurnRunner(self.app.registration(n), self.store, cache), "Agent")  # type: ignore[arg-type]
            for n in names
        }
        self.states: dict[tuple[str, str], Any] = {}
        self.sim = Sim(orchestrators, entities={n.lower(): self._entity(n.lower()) for n in names})

    def _entity(self, name: str) -> Any:
        def call(key: str, operation: str, value: Any) -> Any:
            new_state, result = run_sync(
                self.entities[name].handle(operation, value, self.states.get((name, key)), key), timeout=30
            )
            self.states[(name, key)] = None if new_state is DELETE else new_state
            return result

        return call

    def turns(self, name: str, key: str) -> int:
        """Committed turns of session ``key`` of agent ``name``."""
        state = self.states.get((name.lower(), key))
        return int(state["turns"]) if state else 0

    def request_ids(self) -> list[str]:
        """The correlation ids of every ``run_agent`` the entities received, in order."""
        return [value["correlationId"] for (_, op, value, _) in self.sim.entity_log if op == "run_agent"]
