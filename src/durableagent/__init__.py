"""durableagent: Microsoft Agent Framework agents served as Azure Durable Functions apps.

``app = AgentFunctionApp(agents=[agent])`` gives every agent a durable session entity and the
HTTP API of openapi.yaml; ``durableagent serve`` runs the same app on one machine.

The public names are imported lazily (PEP 562), so ``import durableagent.testing`` (the pytest
plugin) or the local host's CLI do not pay for the agent framework until they use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "AgentCallbackContext",
    "AgentFunctionApp",
    "AgentResponseCallbackProtocol",
    "AgentRunError",
    "AgentSessionId",
    "AgentState",
    "AppOptions",
    "DurableAIAgent",
    "UnsupportedStateVersionError",
    "get_agent",
]

__version__ = "0.1.0"

_HOMES = {
    "AgentFunctionApp": "durableagent.app",
    "AgentCallbackContext": "durableagent.callbacks",
    "AgentResponseCallbackProtocol": "durableagent.callbacks",
    "AppOptions": "durableagent.options",
    "AgentState": "durableagent.entity.state",
    "UnsupportedStateVersionError": "durableagent.entity.state",
    "AgentSessionId": "durableagent.session_id",
    "AgentRunError": "durableagent.orchestration.errors",
    "DurableAIAgent": "durableagent.orchestration.proxy",
    "get_agent": "durableagent.orchestration.proxy",
}

if TYPE_CHECKING:
    from durableagent.app import AgentFunctionApp
    from durableagent.callbacks import AgentCallbackContext, AgentResponseCallbackProtocol
    from durableagent.entity.state import AgentState, UnsupportedStateVersionError
    from durableagent.options import AppOptions
    from durableagent.orchestration.errors import AgentRunError
    from durableagent.orchestration.proxy import DurableAIAgent, get_agent
    from durableagent.session_id import AgentSessionId


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'durableagent' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
