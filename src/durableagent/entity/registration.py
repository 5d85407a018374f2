"""``AgentRegistration``: an agent as its session entity and the routes run it (settings, no logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from agent_framework import SupportsAgentRun

from durableagent.callbacks import AgentResponseCallbackProtocol
from durableagent.entity.agent_call import CallSettings, ContextPolicy


@dataclass(frozen=True)
class AgentRegistration:
    """One registered agent.

    Attributes:
        name: The agent's name as registered (its entity name; routes match it case-insensitively).
        agent: The Agent Framework agent.
        callback: Observes the agent's updates and responses (per agent, else the app's default).
        uses_provider: Whether the agent takes its history from durableagent's history provider
            (else the history is passed as input messages).
        allowed_roles: Message roles a caller may send.
        max_attempts: Deliveries of one turn before it is recorded as poisoned.
        call: Timeout and retries of one agent call.
        context: How much of the history the model sees (window, token budget, reducer).
        agent_type: The agent's class name (filled in from ``agent``).
        session_ttl: Idle time after which a session is deleted (None: never; ``entity.session``).
        max_reply_bytes: Largest stored turn JSON (UTF-8 bytes); beyond, ``reply-too-large``.
    """

    name: str
    agent: SupportsAgentRun
    callback: AgentResponseCallbackProtocol | None = None
    uses_provider: bool = False
    allowed_roles: frozenset[str] = frozenset({"user"})
    max_attempts: int = 3
    call: CallSettings = field(default_factory=CallSettings)
    context: ContextPolicy = field(default_factory=ContextPolicy)
    agent_type: str = ""
    session_ttl: timedelta | None = timedelta(days=14)
    max_reply_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        """Record the agent's class name, as ``GET /health`` and ``get_state`` report it."""
        if not self.agent_type:
            object.__setattr__(self, "agent_type", type(self.agent).__name__)
