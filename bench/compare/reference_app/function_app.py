"""The weather sample served by the reference package ``agent-framework-azurefunctions``.

Same two agents, tools and instructions as samples/weather, on durableagent's offline model, so
``scripts/bench --compare`` can run it under durableagent's local host next to our own app.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func
from agent_framework import Agent
from agent_framework_azurefunctions import AgentFunctionApp

from durableagent.offline.model import OfflineChatClient


def get_weather(location: str) -> dict[str, Any]:
    """Get the current weather for a location."""
    return {"location": location, "temperature": 72, "conditions": "Sunny"}


def get_forecast(location: str, days: int = 3) -> dict[str, Any]:
    """Get a short forecast for a location."""
    return {
        "location": location,
        "days": [{"day": i + 1, "high": 70 + i, "conditions": "Clear"} for i in range(days)],
    }


def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


client = OfflineChatClient()
weather_agent = Agent(
    client,
    name="WeatherAgent",
    instructions="You are a helpful weather assistant. Use your tools to answer questions about the weather.",
    tools=[get_weather, get_forecast],
)
math_agent = Agent(
    client,
    name="MathAgent",
    instructions="You are a careful math assistant. Use your tools for arithmetic.",
    tools=[add, multiply],
)

app = AgentFunctionApp(agents=[weather_agent, math_agent], http_auth_level=func.AuthLevel.ANONYMOUS)
