"""The weather sample: a WeatherAgent and a MathAgent served as one Durable Functions app.

The same file runs under the Azure Functions host (``func start`` / ``func azure functionapp
publish``) and under durableagent's local host (``durableagent serve samples/weather``).

The model: Azure OpenAI when ``AZURE_OPENAI_ENDPOINT`` is set (key in ``AZURE_OPENAI_API_KEY``, or
your Azure identity), an OpenAI-compatible endpoint when ``OPENAI_API_KEY`` is set (with
``OPENAI_BASE_URL`` for other providers), and otherwise durableagent's offline model: a
deterministic stand-in that needs no network and does not understand language.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from agent_framework import Agent
from pydantic import Field

from durableagent import AgentFunctionApp

# Every tool argument is bounded (the framework validates a call's arguments against these pydantic
# limits before the tool runs and hands a refusal back to the model), so no message can make a tool
# do work out of proportion to the request.
Location = Annotated[str, Field(min_length=1, max_length=100, description="A city or place name.")]
Days = Annotated[int, Field(ge=1, le=14, description="How many days, 1 to 14.")]
Operand = Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]


def get_weather(location: Location) -> dict[str, Any]:
    """Get the current weather for a location."""
    return {"location": location, "temperature": 72, "conditions": "Sunny"}


def get_forecast(location: Location, days: Days = 3) -> dict[str, Any]:
    """Get a short forecast (1 to 14 days) for a location."""
    return {
        "location": location,
        "days": [{"day": i + 1, "high": 70 + i, "conditions": "Clear"} for i in range(days)],
    }


def add(a: Operand, b: Operand) -> float:
    """Add two numbers."""
    return a + b


def multiply(a: Operand, b: Operand) -> float:
    """Multiply two numbers."""
    return a * b


def chat_client() -> Any:
    """The model client chosen from the environment (see the module docstring)."""
    if os.environ.get("AZURE_OPENAI_ENDPOINT") or os.environ.get("OPENAI_API_KEY"):
        from agent_framework.openai import OpenAIChatCompletionClient

        if os.environ.get("AZURE_OPENAI_ENDPOINT") and not os.environ.get("AZURE_OPENAI_API_KEY"):
            from azure.identity import DefaultAzureCredential

            return OpenAIChatCompletionClient(credential=DefaultAzureCredential())
        return OpenAIChatCompletionClient()
    from durableagent.offline.model import OfflineChatClient

    return OfflineChatClient()


client = chat_client()

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

# PYTHON_ENABLE_INIT_INDEXING=1 (with durableagent[http-streaming] installed) serves the same API in the
# model of the Azure Functions HTTP streams extension, where streamed replies leave as they are made.
app = AgentFunctionApp(
    agents=[weather_agent, math_agent],
    http_streaming=os.environ.get("PYTHON_ENABLE_INIT_INDEXING", "").lower() in ("1", "true"),
)
