"""Human in the loop: an agent's draft waits for a person's approval, raced against a durable timer.

``POST /api/approval/run`` starts ``approval_orchestration``: the WriterAgent drafts an
announcement, the orchestration publishes the draft in its custom status and waits for the
``Approval`` event or a durable timer (``timeout_seconds``, default 300), whichever comes first.
Approved: the ``publish`` activity runs. Rejected with feedback: the agent rewrites the draft in the
same session and the wait starts again (at most three rounds). No answer in time: it ends as
``timed_out``. The wait costs nothing while it lasts: the orchestration is unloaded until the event
or the timer wakes it, and it survives restarts of the host.

The event comes from ``POST /api/approval/{instanceId}/decision`` (``client.raise_event``) or from
the Durable management API (the ``sendEventPostUri`` of the check-status payload).

The model: Azure OpenAI when ``AZURE_OPENAI_ENDPOINT`` is set, an OpenAI-compatible endpoint when
``OPENAI_API_KEY`` is set, otherwise durableagent's deterministic offline model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from agent_framework import Agent

from durableagent import AgentFunctionApp

APPROVAL_EVENT = "Approval"
MAX_ROUNDS = 3


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
    instructions="You write short product announcements. Answer with the announcement only.",
)

app = AgentFunctionApp(agents=[writer])


def decision_of(payload: Any) -> tuple[bool, str]:
    """``(approved, feedback)`` of an Approval event (its data arrives as JSON text on Durable 1.x)."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return False, payload
    if not isinstance(payload, dict):
        return False, ""
    return payload.get("approved") is True, str(payload.get("feedback") or "")


@app.orchestration_trigger(context_name="context")
def approval_orchestration(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Draft, then wait for approval or the timeout; rewrite on feedback."""
    request = context.get_input() or {}
    timeout = timedelta(seconds=float(request.get("timeout_seconds") or 300))
    agent = app.get_agent(context, "WriterAgent")
    session = agent.create_session()
    draft = yield agent.run(f"Write an announcement about {request.get('topic')}.", session=session)
    for attempt in range(1, MAX_ROUNDS + 1):
        context.set_custom_status(
            {"stage": "awaiting_approval", "attempt": attempt, "draft": draft.text, "sessionId": session.key}
        )
        approval = context.wait_for_external_event(APPROVAL_EVENT)
        timer = context.create_timer(context.current_utc_datetime + timeout)  # never datetime.now()
        winner = yield context.task_any([approval, timer])
        if winner is not approval:
            context.set_custom_status({"stage": "timed_out", "attempt": attempt})
            return {"status": "timed_out", "draft": draft.text, "sessionId": session.key}
        timer.cancel()
        approved, feedback = decision_of(approval.result)
        if approved:
            published = yield context.call_activity("publish", draft.text)
            context.set_custom_status({"stage": "published", "attempt": attempt})
            return {"status": "published", "text": published, "attempts": attempt, "sessionId": session.key}
        draft = yield agent.run(f"Rewrite it. Reviewer feedback: {feedback}", session=session)
    context.set_custom_status({"stage": "rejected", "attempt": MAX_ROUNDS})
    return {"status": "rejected", "draft": draft.text, "sessionId": session.key}


@app.activity_trigger(input_name="text")
def publish(text: str) -> str:
    """Stand-in for publishing the approved announcement."""
    return text


@app.route(route="approval/run", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_approval(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start with ``{"topic": "...", "timeout_seconds": 300}``; 202 with the check-status links."""
    try:
        body = req.get_json()
    except ValueError:
        body = None
    topic = body.get("topic") if isinstance(body, dict) else None
    seconds = body.get("timeout_seconds", 300) if isinstance(body, dict) else None
    if not isinstance(topic, str) or not 0 < len(topic) <= 200:
        return bad_request('Send {"topic": "..."} (1 to 200 characters).')
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 7 * 86400:
        return bad_request("timeout_seconds must be a number of seconds, at most 7 days.")
    instance_id = await client.start_new(
        "approval_orchestration", client_input={"topic": topic, "timeout_seconds": seconds}
    )
    return client.create_check_status_response(req, instance_id)


@app.route(route="approval/{instanceId}/decision", methods=["POST"])
@app.durable_client_input(client_name="client")
async def decide(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Raise the Approval event: ``{"approved": true}`` or ``{"approved": false, "feedback": "..."}``."""
    try:
        body = req.get_json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("approved"), bool):
        return bad_request('Send {"approved": true} or {"approved": false, "feedback": "..."}.')
    feedback = body.get("feedback", "")
    if not isinstance(feedback, str) or len(feedback) > 2000:
        return bad_request("feedback must be a string of at most 2000 characters.")
    instance_id = req.route_params["instanceId"]
    status = await client.get_status(instance_id)
    if status.runtime_status is None:
        return problem(404, "Not Found", "No orchestration has this instance id.")
    try:
        await client.raise_event(
            instance_id, APPROVAL_EVENT, {"approved": body["approved"], "feedback": feedback}
        )
    except Exception:  # noqa: BLE001 - the SDK raises a bare Exception for 410 Gone (the instance ended)
        return problem(409, "Conflict", "The orchestration is no longer waiting for a decision.")
    return func.HttpResponse(status_code=202)


def problem(status: int, title: str, detail: str) -> func.HttpResponse:
    """A problem+json answer."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/problem+json")


def bad_request(detail: str) -> func.HttpResponse:
    """A 400 problem+json answer."""
    return problem(400, "Bad Request", detail)
