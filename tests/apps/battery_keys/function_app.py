"""The battery's auth app: the agent routes at ``AuthLevel.FUNCTION``, and ``role: system`` opted in.

Why: the battery checks that ``durableagent serve --require-keys`` honours the app's
``http_auth_level`` (no key or a wrong key is a 401; the header and the ``code`` query both work)
and that an app may opt in to system messages (``AppOptions(allowed_roles=...)``).
"""

from __future__ import annotations

import azure.functions as func
from agent_framework import Agent

from durableagent import AgentFunctionApp, AppOptions
from durableagent.offline.model import OfflineChatClient

agent = Agent(OfflineChatClient(), name="Guarded", instructions="You are the battery's guarded agent.")

app = AgentFunctionApp(
    agents=[agent],
    http_auth_level=func.AuthLevel.FUNCTION,
    options=AppOptions(allowed_roles=("user", "system")),
)
