"""The sessions tier's app: windowed histories, a slow tool and a probe of every model call.

* ``Windowed`` sees the last 3 turns (``history_window=3``), ``Budgeted`` the newest turns within
  40 estimated tokens, ``Reduced`` the turns Agent Framework's ``SlidingWindowStrategy`` keeps
  (2 groups); ``Whole`` every turn. The offline model's reply counts the user messages it was sent
  ("offline reply #N"), so a test reads from the reply how much history the model saw.
* ``Worker`` has the ``slow_step`` tool: it writes ``<item>.started`` in ``SESSIONS_DIR``, then waits
  (at most 60 s) until the test creates ``<item>.release``, and appends ``<item>`` to
  ``executions.log``. A chat middleware appends ``model <marker>`` to ``SESSIONS_DIR/models.log``
  before every model call, and ``done <marker>`` after one returns.

The offline model's fault directives (``#sleep:``, ``#tool:``) are on: ``DURABLEAGENT_OFFLINE_FAULTS=1``.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from agent_framework import Agent, ChatContext, SlidingWindowStrategy, chat_middleware

from durableagent import AgentFunctionApp, AppOptions
from durableagent.offline.model import OfflineChatClient

_MARKER = re.compile(r"\bm-[A-Za-z0-9_]+\b")


def _folder() -> Path:
    return Path(os.environ.get("SESSIONS_DIR", "."))


def _append(name: str, line: str) -> None:
    fd = os.open(_folder() / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


@chat_middleware
async def model_probe(context: ChatContext, call_next: Callable[[], Awaitable[None]]) -> None:
    """Log each model call of a run: ``model <marker>`` before, ``done <marker>`` after."""
    users = [m.text for m in context.messages if m.role == "user"]
    found = _MARKER.findall(users[-1]) if users else []
    marker = found[-1] if found else "-"
    _append("models.log", f"model {marker}")
    await call_next()
    _append("models.log", f"done {marker}")


async def slow_step(item: str) -> str:
    """Run a slow step for an item (waits until the test releases it)."""
    folder = _folder()
    (folder / f"{item}.started").touch()
    for _ in range(600):
        if (folder / f"{item}.release").exists():
            break
        await asyncio.sleep(0.1)
    _append("executions.log", item)
    return f"step {item} done"


def _offline() -> OfflineChatClient:
    return OfflineChatClient()


app = AgentFunctionApp(options=AppOptions(wait_timeout=30.0))
app.add_agent(Agent(_offline(), name="Whole", instructions="Be brief."))
app.add_agent(Agent(_offline(), name="Windowed", instructions="Be brief."), history_window=3)
app.add_agent(Agent(_offline(), name="Budgeted", instructions="Be brief."), history_token_budget=40)
app.add_agent(
    Agent(_offline(), name="Reduced", instructions="Be brief."),
    history_reducer=SlidingWindowStrategy(keep_last_groups=4),
)
app.add_agent(
    Agent(_offline(), name="Worker", instructions="Be brief.", tools=[slow_step], middleware=[model_probe])
)
