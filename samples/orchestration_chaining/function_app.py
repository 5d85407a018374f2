"""Chaining: one agent, two turns in one session, as steps of a durable orchestration.

``POST /api/chaining/run`` starts ``chaining_orchestration``, which asks the WriterAgent for a
slogan, then asks it (in the same session, so it sees its first answer) to improve it. Each step is
a durable entity call: if the host stops between the two, the orchestration resumes after the
first and the first turn is not run again. The session is the one ``GET
/api/agents/WriterAgent/{sessionId}`` shows.

The model: Azure OpenAI when ``AZURE_OPENAI_ENDPOINT`` is set, an OpenAI-compatible endpoint when
``OPENAI_API_KEY`` is set, otherwise durableagent's deterministic offline model.
"""

from __future__ import annotations

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


writer = Agent(
    chat_client(),
    name="WriterAgent",
    instructions="You write short, punchy marketing slogans. Answer with the slogan only.",
)

app = AgentFunctionApp(agents=[writer])


@app.orchestration_trigger(context_name="context")
def chaining_orchestration(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Two turns of the WriterAgent in one session; the second builds on the first."""
    topic = str((context.get_input() or {}).get("topic") or "durable agents")
    agent = app.get_agent(context, "WriterAgent")
    session = agent.create_session()  # key from context.new_uuid(): the same on every replay
    first = yield agent.run(f"Write a slogan about {topic}.", session=session)
    final = yield agent.run(f"Make this slogan shorter: {first.text}", session=session)
    return {"sessionId": session.key, "first": first.text, "final": final.text}


@app.route(route="chaining/run", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_chaining(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start the orchestration; 202 with the Durable check-status links."""
    try:
        body = req.get_json()
    except ValueError:
        body = None
    topic = body.get("topic") if isinstance(body, dict) else None
    if not isinstance(topic, str) or not 0 < len(topic) <= 200:
        return func.HttpResponse(
            '{"type":"about:blank","title":"Bad Request","status":400,'
            '"detail":"Send {\\"topic\\": \\"...\\"} (1 to 200 characters)."}',
            status_code=400,
            mimetype="application/problem+json",
        )
    instance_id = await client.start_new("chaining_orchestration", client_input={"topic": topic})
    return client.create_check_status_response(req, instance_id)
