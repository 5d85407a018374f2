"""Agents as durable steps of orchestrations: ``app.get_agent(context, name)``.

Modules: ``proxy`` (``DurableAIAgent``, sessions, ``get_agent``), ``request`` (the deterministic
request id and the entity input), ``tasks`` (``AgentTask``: the entity call resolved to an
``AgentResponse``), ``errors`` (``AgentRunError``), ``registry`` (the agents of this process).
"""

from __future__ import annotations

from durableagent.orchestration.errors import AgentRunError
from durableagent.orchestration.proxy import DurableAgentSession, DurableAIAgent, get_agent
from durableagent.orchestration.tasks import AgentTask

__all__ = ["AgentRunError", "AgentTask", "DurableAIAgent", "DurableAgentSession", "get_agent"]
