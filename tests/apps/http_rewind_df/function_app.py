"""Durable HTTP (``call_http``) and rewinding failed orchestrations, through the SDK's own APIs.

Activities record each run in a log file the test names, so a test can tell which work ran again
after a rewind. ``flaky`` fails until a marker file exists. Nothing here imports durableagent.
"""

from __future__ import annotations

import json
import os
from typing import Any

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _json(value: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), status_code=status, mimetype="application/json")


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    value = req.get_json() if req.get_body() else None
    instance_id = await client.start_new(req.route_params["name"], None, value)
    return client.create_check_status_response(req, instance_id)


@app.route(route="rewind/{instance_id}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def rewind(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    try:
        await client.rewind(req.route_params["instance_id"], req.params.get("reason", "fixed"))
    except Exception as error:  # the SDK raises for 404, 410 and 500 answers
        return _json({"error": str(error)}, 409)
    return func.HttpResponse(status_code=202)


@app.orchestration_trigger(context_name="context")
def fetch(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    req = context.get_input()
    try:
        response = yield context.call_http(req["method"], req["uri"], req.get("content"), req.get("headers"))
    except Exception as error:  # a transport failure fails the task
        return {"error": str(error)}
    return response


@app.orchestration_trigger(context_name="context")
def flaky_chain(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    run = context.get_input()
    first = yield context.call_activity("step", {"label": "a", **run})
    middle = yield context.call_activity("flaky", run)
    last = yield context.call_activity("step", {"label": "b", **run})
    return [first, middle, last]


@app.orchestration_trigger(context_name="context")
def flaky_parent(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    run = context.get_input()
    before = yield context.call_activity("step", {"label": "p", **run})
    child = yield context.call_sub_orchestrator("flaky_chain", run)
    return {"before": before, "child": child}


@app.orchestration_trigger(context_name="context")
def picky(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    run = context.get_input()
    value = yield context.call_activity("step", {"label": "x", **run})
    if not os.path.exists(run["marker"]):  # fails by itself (not in a task) until the marker exists
        raise ValueError("the marker is missing")
    return value


@app.activity_trigger(input_name="job")
def step(job: dict[str, Any]) -> str:
    with open(job["log"], "a", encoding="utf-8") as log:
        log.write(job["label"] + "\n")
    return str(job["label"])


@app.activity_trigger(input_name="job")
def flaky(job: dict[str, Any]) -> str:
    with open(job["log"], "a", encoding="utf-8") as log:
        log.write("flaky\n")
    if not os.path.exists(job["marker"]):
        raise RuntimeError("the marker is missing")
    return "ok"
