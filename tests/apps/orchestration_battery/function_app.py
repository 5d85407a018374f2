"""The orchestration kill test's app: a multi-agent pipeline whose every turn can be checked afterwards.

Two agents on the offline model (each model call takes ``BATTERY_MODEL_MS``, default 150 ms, so a
SIGKILL lands in the middle of the work). ``pipeline`` runs ``rounds`` rounds of Writer then Editor,
each agent in its own session, then one last turn of both at once (``task_all``). Every user
message is predictable from the round number, so the test can check each session's history for
exactly the expected turns, each exactly once. Nothing here is meant for production.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from agent_framework import Agent

from durableagent import AgentFunctionApp
from durableagent.offline.model import OfflineChatClient

model = OfflineChatClient(latency=float(os.environ.get("BATTERY_MODEL_MS", "150")) / 1000.0)
app = AgentFunctionApp(
    agents=[
        Agent(model, name="Writer", instructions="Write."),
        Agent(model, name="Editor", instructions="Edit."),
    ]
)


@app.orchestration_trigger(context_name="context")
def pipeline(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """``rounds`` sequential Writer -> Editor rounds, then both agents concurrently."""
    rounds = int(context.get_input() or 1)
    writer, editor = app.get_agent(context, "Writer"), app.get_agent(context, "Editor")
    drafts, edits = writer.create_session(), editor.create_session()
    for n in range(1, rounds + 1):
        draft = yield writer.run(f"draft {n}", session=drafts)
        yield editor.run(f"edit {n}: {draft.text[:12]}", session=edits)
    last = yield context.task_all([writer.run("final", session=drafts), editor.run("final", session=edits)])
    return {"writer": drafts.key, "editor": edits.key, "last": [r.text for r in last]}


@app.route(route="pipeline/run", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_pipeline(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start ``pipeline`` with ``?rounds=N``."""
    instance_id = await client.start_new("pipeline", client_input=int(req.params.get("rounds", "3")))
    return client.create_check_status_response(req, instance_id)
