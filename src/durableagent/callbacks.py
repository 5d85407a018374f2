"""Callbacks that observe an agent's run: streaming updates and the final response.

They run inside the session's entity operation, on the agent loop. A turn that is redelivered
after a crash may call them again (at-least-once); a callback that raises is logged (without its
message) and ignored: it never fails the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from agent_framework import AgentResponse, AgentResponseUpdate


@dataclass(frozen=True)
class AgentCallbackContext:
    """Where a callback's update or response comes from."""

    agent_name: str
    correlation_id: str
    conversation_id: str
    request_message: str

    @property
    def session_id(self) -> str:
        """Alias of ``conversation_id`` (the session key), as newer clients name it."""
        return self.conversation_id


@runtime_checkable
class AgentResponseCallbackProtocol(Protocol):
    """Implement either method or both; both are awaited."""

    async def on_streaming_response_update(
        self, update: AgentResponseUpdate, context: AgentCallbackContext
    ) -> None:
        """Receive each update as the agent streams it (defining this method makes the run stream)."""
        ...

    async def on_agent_response(self, response: AgentResponse, context: AgentCallbackContext) -> None:
        """Receive the run's final response, once the agent call (with its retries) succeeded."""
        ...
