"""The peers' stand-in for durableagent's offline model (stdlib only: it runs in the peers' venvs).

Same reply text as ``durableagent.offline.model`` for a plain message (no tool word, no schema):
``You said: '<message>'. This is offline reply #N in this conversation.``, N counting the user
messages the model sees (the history's and this one). Same latency knob: the
``DURABLEAGENT_OFFLINE_LATENCY_MS`` environment variable, read once at start, slept with
``asyncio.sleep`` as the offline model does. No network.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

LATENCY_ENV = "DURABLEAGENT_OFFLINE_LATENCY_MS"
LATENCY_S = float(os.environ.get(LATENCY_ENV, "0") or 0) / 1000.0


def reply(history: Sequence[dict[str, Any]], message: str) -> str:
    """The reply to ``message`` after ``history`` (a list of ``{"role", "text"}`` messages)."""
    n = 1 + sum(1 for m in history if m.get("role") == "user")
    return f"You said: '{message}'. This is offline reply #{n} in this conversation."


async def respond(history: Sequence[dict[str, Any]], message: str) -> str:
    """The model call: wait the configured latency, then answer."""
    if LATENCY_S > 0:
        await asyncio.sleep(LATENCY_S)
    return reply(history, message)
