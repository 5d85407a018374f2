"""Conditionals: branch an orchestration on an agent's structured verdict.

``POST /api/spam/run`` starts ``spam_orchestration`` with an email. The SpamDetectionAgent answers
with a ``SpamVerdict`` (``response_format``: a pydantic model, so ``result.value`` is a validated
``SpamVerdict``). A spam score of 50 or more sends the email to the ``quarantine`` activity;
otherwise the EmailAssistantAgent drafts a reply (an ``EmailReply``) and the ``send_reply``
activity "sends" it.

With the offline model (which does not understand language), the spam score is the first number
in the email: "WIN 1000 dollars now" is spam, "Lunch at 12?" is not.

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
from pydantic import BaseModel

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


class SpamVerdict(BaseModel):
    """The SpamDetectionAgent's structured answer."""

    spam_score: int
    reason: str


class EmailReply(BaseModel):
    """The EmailAssistantAgent's structured answer."""

    reply: str


client = chat_client()
spam_agent = Agent(
    client,
    name="SpamDetectionAgent",
    instructions="Rate how likely an email is spam, from 0 (surely not) to 100 (surely spam), with a reason.",
)
email_agent = Agent(
    client, name="EmailAssistantAgent", instructions="Draft a short, polite reply to the email."
)

app = AgentFunctionApp(agents=[spam_agent, email_agent])


@app.orchestration_trigger(context_name="context")
def spam_orchestration(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    """Score the email; quarantine spam, answer the rest."""
    email = str(context.get_input())
    detector = app.get_agent(context, "SpamDetectionAgent")
    verdict_response = yield detector.run(f"Email: {email}", options={"response_format": SpamVerdict})
    verdict: SpamVerdict = verdict_response.value
    if verdict.spam_score >= 50:
        outcome = yield context.call_activity("quarantine", verdict.reason)
        return {"spam": True, "score": verdict.spam_score, "outcome": outcome}
    assistant = app.get_agent(context, "EmailAssistantAgent")
    draft = yield assistant.run(f"Reply to: {email}", options={"response_format": EmailReply})
    outcome = yield context.call_activity("send_reply", draft.value.reply)
    return {"spam": False, "score": verdict.spam_score, "outcome": outcome}


@app.activity_trigger(input_name="reason")
def quarantine(reason: str) -> str:
    """Stand-in for moving the email to a spam folder."""
    return f"quarantined: {reason}"


@app.activity_trigger(input_name="reply")
def send_reply(reply: str) -> str:
    """Stand-in for sending the reply."""
    return f"sent: {reply}"


@app.route(route="spam/run", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start_spam(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """Start the orchestration with ``{"email": "..."}``; 202 with the Durable check-status links."""
    email = json_field(req, "email")
    if email is None:
        return bad_request('Send {"email": "..."} (1 to 2000 characters).')
    instance_id = await client.start_new("spam_orchestration", client_input=email)
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
