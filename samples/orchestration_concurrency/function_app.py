"""Concurrency: two agents answer the same question in parallel, as one durable orchestration.

``POST /api/concurrency/run`` starts ``concurrency_orchestration``, which runs the PhysicistAgent
and the ChemistAgent with ``context.task_all``: both entity calls leave in the same orchestrator
episode, each on its own session entity, so they run at the same time; the orchestration resumes
when both have answered.

The model: Azure OpenAI when ``AZURE_OPENAI_ENDPOINT`` is set, an OpenAI-compatible endpoint when
``OPENAI_API_KEY`` is set, otherwise durableagent's deterministic offline model (set
``DURABLEAGENT_OFFLINE_LATENCY_MS`` to give it a delay).
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from agent_framework import Agent

from durableagent import AgentFunctionApp


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
physicist = Agent(client, name="PhysicistAgent", instructions="You are a physicist. Answer in one sentence.")
chemist = Agent(client, name="ChemistAgent", instructions="You are a chemist. Answer in one sentence.")

app = AgentFunctionApp(agents=[physicist, chemist])


@app.orchestration_trigger(context_name="context")
def concurrency_orchestration(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Both agents on the same prompt, concurrently; their answers side by side."""
    prompt = str(context.get_input())
    physics = app.get_agent(context, "PhysicistAgent")
    chemistry = app.get_agent(context, "ChemistAgent")
    answers = yield context.task_all([physics.run(prompt), chemistry.run(prompt)])
    return {"physicist": answers[0].text, "chemist": answers[1].text}


@app.route(route="concurrency/run", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_concurrency(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Start the orchestration with ``{"prompt": "..."}``; 202 with the Durable check-status links."""
    prompt = json_field(req, "prompt")
    if prompt is None:
        return bad_request('Send {"prompt": "..."} (1 to 2000 characters).')
    instance_id = await client.start_new("concurrency_orchestration", client_input=prompt)
    return client.create_check_status_response(req, instance_id)


def bad_request(detail: str) -> func.HttpResponse:
    """A 400 problem+json answer."""
    body = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": detail}
    return func.HttpResponse(json.dumps(body), status_code=400, mimetype="application/problem+json")


def json_field(req: func.HttpRequest, name: str) -> str | None:
    """The string field ``name`` of the JSON body (1 to 2000 characters), else None."""
    try:
        body = req.get_json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 2000 else None
