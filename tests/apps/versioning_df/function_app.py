"""Orchestration versioning, as the Durable SDK's ``orchestration_versioning`` sample exercises it.

``context.version`` is the version an instance was created with: host.json ``defaultVersion`` at
that moment, or the one passed to ``start_new(version=...)`` / ``call_sub_orchestrator(version=...)``.
The orchestrator waits for a "Continue" event so a test can change ``defaultVersion`` and restart
the host while instances are in flight. Nothing here imports durableagent.
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orchestrators/{functionName}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    name = req.route_params["functionName"]
    version = req.params.get("version")
    instance_id = await (client.start_new(name, version=version) if version else client.start_new(name))
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def versioned(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    if context.version == "1.0":
        greeting = yield context.call_activity("hello_a", "")
    else:
        greeting = yield context.call_activity("hello_b", "")
    context.set_custom_status("waiting")
    yield context.wait_for_external_event("Continue")
    explicit = yield context.call_sub_orchestrator("child", version="0.9")
    default = yield context.call_sub_orchestrator("child")
    return {"version": context.version, "explicit": explicit, "default": default, "greeting": greeting}


@app.orchestration_trigger(context_name="context")
def child(context: df.DurableOrchestrationContext) -> str | None:
    return context.version


@app.activity_trigger(input_name="value")
def hello_a(value: str) -> str:
    return "Hello from A!"


@app.activity_trigger(input_name="value")
def hello_b(value: str) -> str:
    return "Hello from B!"
