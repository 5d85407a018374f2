"""The history-window bench app: the same offline agent with a 20-turn window and with the whole history."""

from __future__ import annotations

from agent_framework import Agent

from durableagent import AgentFunctionApp
from durableagent.offline.model import OfflineChatClient

app = AgentFunctionApp()
app.add_agent(Agent(OfflineChatClient(), name="WindowedAgent", instructions="Be brief."), history_window=20)
app.add_agent(Agent(OfflineChatClient(), name="WholeAgent", instructions="Be brief."))
