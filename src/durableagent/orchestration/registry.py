"""The agent apps of this process, so ``get_agent(context, name)`` can check the name it is given.

Why: the 0.0.2b1 entry points (``get_agent(context, name)``, ``DurableAIAgent(context, name)``)
take no app. Every ``AgentFunctionApp`` registers itself here when it is built (weakly: a
discarded app is forgotten), and a name is resolved against all of them, case-insensitively as
Durable entity names are compared.
"""

from __future__ import annotations

import weakref
from typing import Protocol


class AgentCatalog(Protocol):
    """What the registry needs of an app: the names of its agents."""

    @property
    def agents(self) -> dict[str, object]:
        """The registered agents by name."""


_apps: weakref.WeakSet[AgentCatalog] = weakref.WeakSet()


def remember(app: AgentCatalog) -> None:
    """Record ``app`` (called by ``AgentFunctionApp.__init__``)."""
    _apps.add(app)


def resolve(name: str, apps: list[AgentCatalog] | None = None) -> str:
    """The registered spelling of agent ``name`` in ``apps`` (default: every app of this process).

    Raises:
        ValueError: no app has an agent of that name; the message lists the registered agents.
    """
    known: list[str] = []
    for app in apps if apps is not None else list(_apps):
        for registered in app.agents:
            if registered.lower() == str(name).lower():
                return registered
            known.append(registered)
    listed = ", ".join(sorted(known)) if known else "none"
    raise ValueError(f"Agent {name!r} is not registered with this app. Registered agents: {listed}.")
