"""The session-lifecycle tests' app: idle expiry, listing and large replies on the offline model.

* ``Brief``: sessions expire after ``SESSIONS_TTL_SECONDS`` of idleness (the sweep runs every
  second, ``SESSIONS_SWEEP``), so a test sees expiry within seconds;
* ``Keeper``: ``session_ttl=None``, its sessions never expire;
* both have the ``enormous`` tool: ``enormous <N>`` in a message makes the offline model call it,
  and it returns a text of ``N`` characters, which the model's reply then repeats: a turn of
  about ``2 * N`` characters of tool result and reply (``SESSIONS_MAX_REPLY_BYTES`` caps it).
"""

from __future__ import annotations

import os
from datetime import timedelta

from agent_framework import Agent

from durableagent import AgentFunctionApp, AppOptions
from durableagent.offline.model import OfflineChatClient


def enormous(size: int) -> str:
    """Produce an enormous text of the given size (a tool result beyond storage record limits)."""
    pattern = "0123456789abcdef漢字-"
    return (pattern * (size // len(pattern) + 1))[:size]


options = AppOptions(
    wait_timeout=60.0,
    expiry_sweep_schedule=os.environ.get("SESSIONS_SWEEP", "* * * * * *"),
    max_reply_bytes=int(os.environ.get("SESSIONS_MAX_REPLY_BYTES", str(16 * 1024 * 1024))),
)
app = AgentFunctionApp(options=options)
app.add_agent(
    Agent(OfflineChatClient(), name="Brief", instructions="Short-lived sessions.", tools=[enormous]),
    session_ttl=timedelta(seconds=float(os.environ.get("SESSIONS_TTL_SECONDS", "3"))),
)
app.add_agent(
    Agent(OfflineChatClient(), name="Keeper", instructions="Sessions kept for ever.", tools=[enormous]),
    session_ttl=None,
)
