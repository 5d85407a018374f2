"""Fixtures for the session entity: an agent on the offline model, an in-memory store, a spy."""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import pytest
from agent_framework import Agent, Message

from durableagent.conversation.memory import MemoryConversationStore
from durableagent.entity.agent_call import CallSettings, install_history_provider
from durableagent.entity.history import HistoryCache
from durableagent.entity.registration import AgentRegistration
from durableagent.entity.session import DELETE, SessionEntity
from durableagent.entity.turn import TurnRunner
from durableagent.offline.model import OfflineChatClient
from tests.agent_loop_sync import run_sync

T = TypeVar("T")


def get_weather(location: str) -> dict[str, Any]:
    """Get the weather for a location."""
    return {"location": location, "temperature": 72, "conditions": "Sunny"}


class CountingModel(OfflineChatClient):
    """The offline model, counting how often it is asked (each request to the 'service')."""

    calls = 0
    seen: list[list[str]]

    def _inner_get_response(
        self, *, messages: Sequence[Message], stream: bool, options: Any, **kw: Any
    ) -> Any:
        type(self).calls += 1
        self.seen.append([f"{m.role}:{m.text}" for m in messages])
        return super()._inner_get_response(messages=messages, stream=stream, options=options, **kw)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run on the process-wide agent loop, as the entity function does."""
    return run_sync(coro, timeout=30)


class Harness:
    def __init__(self, callback: Any = None, allowed_roles: frozenset[str] = frozenset({"user"})) -> None:
        CountingModel.calls = 0
        self.model = CountingModel(faults=True)
        self.model.seen = []
        self.agent = Agent(self.model, name="WeatherAgent", instructions="Be brief.", tools=[get_weather])
        self.store = MemoryConversationStore()
        self.cache = HistoryCache()
        registration = AgentRegistration(
            name="WeatherAgent",
            agent=self.agent,
            callback=callback,
            uses_provider=install_history_provider(self.agent),
            allowed_roles=allowed_roles,
            call=CallSettings(timeout=5, transient_retries=0),
        )
        self.entity = SessionEntity(TurnRunner(registration, self.store, self.cache), "Agent")
        self.state: Any = None

    def op(self, operation: str, input_: Any = None, session: str = "s1") -> Any:
        new_state, result = run(self.entity.handle(operation, input_, self.state, session))
        self.state = None if new_state is DELETE else new_state
        return result

    def turn(self, message: str, cid: str, **extra: Any) -> dict[str, Any]:
        return self.op("run_agent", {"correlationId": cid, "message": message, **extra})  # type: ignore[no-any-return]


@pytest.fixture
def harness() -> Harness:
    return Harness()
