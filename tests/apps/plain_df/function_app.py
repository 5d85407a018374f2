"""A Durable Functions app written only with azure-functions and azure-functions-durable.

It runs unchanged under ``func start`` and under ``durableagent serve``; the local host's tests
drive it through real HTTP and the SDK's own ``DurableOrchestrationClient``. Nothing here imports
durableagent.

Sections: HTTP functions (routing, bodies, headers, cookies, keys), the Counter entity and the
client functions that signal and read it, then orchestrations and activities (kept separate).
"""

from __future__ import annotations

import json
import time
import uuid

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def _json(value: object, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(value), status_code=status, mimetype="application/json")


# ---------------------------------------------------------------------------------------------
# HTTP functions: routing, bodies, headers, cookies
# ---------------------------------------------------------------------------------------------


@app.route(route="hello/{name?}", methods=["GET"])
def hello(req: func.HttpRequest) -> func.HttpResponse:
    name = req.route_params.get("name") or "world"
    return func.HttpResponse(f"Hello, {name}!")


@app.route(route="items/{id:int}", methods=["GET"])
def item_by_id(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"kind": "id", "id": int(req.route_params["id"])})


@app.route(route="items/{name}", methods=["GET"])
def item_by_name(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"kind": "name", "name": req.route_params["name"]})


@app.route(route="items/special", methods=["GET"])
def item_special(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"kind": "literal"})


@app.route(route="files/{*rest}", methods=["GET"])
def files(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"rest": req.route_params.get("rest")})


@app.route(route="echo", methods=["POST", "PUT"])
def echo(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    headers = {
        "x-echo-method": req.method,
        "x-echo-length": str(len(req.get_body())),
        "x-echo-header": req.headers.get("X-Custom", ""),
        "x-echo-query": json.dumps(dict(req.params)),
        "x-echo-url": req.url,
        "x-invocation-id": context.invocation_id,
        "x-function-name": context.function_name,
    }
    return func.HttpResponse(req.get_body(), headers=headers, mimetype="application/octet-stream")


@app.route(route="cookies", methods=["GET"])
def cookies(req: func.HttpRequest) -> func.HttpResponse:
    resp = func.HttpResponse("cookies set", headers={"X-Extra": "1"})
    resp.headers.add("Set-Cookie", "session=abc; Path=/; HttpOnly")
    resp.headers.add("Set-Cookie", "theme=dark; Max-Age=3600")
    return resp


@app.route(route="whoami", methods=["GET"])
async def whoami(req: func.HttpRequest) -> func.HttpResponse:
    return _json({"cookie": req.headers.get("cookie"), "agent": req.headers.get("user-agent")})


@app.route(route="status/{code:int}", methods=["GET"])
def status(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=int(req.route_params["code"]))


@app.route(route="boom", methods=["GET", "POST"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret-boom-text must never reach the client")


@app.route(route="keys/open", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def keys_open(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("open")


@app.route(route="keys/function", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def keys_function(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("function")


@app.route(route="keys/admin", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
def keys_admin(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("admin")


# ---------------------------------------------------------------------------------------------
# The Counter entity
# State: {"value": int, "log": [[operation, input, batch tag], ...]}. The batch tag is the same for
# every operation of one batch (they share one context object), so tests can see batching.
# ---------------------------------------------------------------------------------------------


@app.entity_trigger(context_name="context", entity_name="Counter")
def counter(context: df.DurableEntityContext) -> None:
    tag = context.__dict__.setdefault("_test_batch_tag", uuid.uuid4().hex[:8])
    state = context.get_state(lambda: {"value": 0, "log": []})
    op = context.operation_name
    if op == "add":
        amount = context.get_input()
        if isinstance(amount, dict):
            amount = amount["n"]
        state["value"] += int(amount)
        state["log"].append(["add", amount, tag])
        context.set_state(state)
        context.set_result(state["value"])
    elif op == "append":
        marker = context.get_input()
        state["log"].append(["append", marker, tag])
        context.set_state(state)
    elif op == "slow":
        # Tests wait for this line in the host's output to know the batch is running.
        print(f"Counter@{context.entity_key}: slow operation started", flush=True)
        time.sleep(float(context.get_input() or 0.3))  # the slow operation itself
        state["log"].append(["slow", None, tag])
        context.set_state(state)
    elif op == "get":
        context.set_result(state["value"])
    elif op == "reset":
        state = {"value": 0, "log": []}
        context.set_state(state)
    elif op == "boom":
        state["value"] = -999
        context.set_state(state)
        raise ValueError("boom!")
    elif op == "delete":
        context.destruct_on_exit()
    else:
        raise ValueError(f"unknown operation {op}")


# ---------------------------------------------------------------------------------------------
# Client functions: signal and read the entity through DurableOrchestrationClient
# ---------------------------------------------------------------------------------------------


@app.route(route="counters/{key}/{op:alpha}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def counter_signal(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    value = json.loads(body) if body else None
    entity = df.EntityId("Counter", req.route_params["key"])
    await client.signal_entity(entity, req.route_params["op"], value)
    return func.HttpResponse(status_code=202)


@app.route(route="counters/{key}/burst/{n:int}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def counter_burst(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    entity = df.EntityId("Counter", req.route_params["key"])
    prefix = req.params.get("prefix", "m")
    for i in range(int(req.route_params["n"])):
        await client.signal_entity(entity, "append", f"{prefix}{i}")
    return func.HttpResponse(status_code=202)


@app.route(route="counters/{key}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def counter_read(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    entity = df.EntityId("Counter", req.route_params["key"])
    response = await client.read_entity_state(entity)
    if not response.entity_exists:
        return _json({"exists": False}, status=404)
    return _json({"exists": True, "state": response.entity_state})


@app.route(route="counters-raw/{name}/{key}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def counter_signal_raw(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    """Signal any entity name/key (to observe the host's 400s through the SDK)."""
    try:
        await client.signal_entity(df.EntityId(req.route_params["name"], req.route_params["key"]), "add", 1)
    except Exception as exc:  # the SDK raises on any status other than 202
        return _json({"error": str(exc)}, status=502)
    return func.HttpResponse(status_code=202)


@app.route(route="management/{instance}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def management(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    return _json(client.create_http_management_payload(req.route_params["instance"]))


# ---------------------------------------------------------------------------------------------
# A timer (run by the local host's timer listener, durableagent.local.triggers)
# ---------------------------------------------------------------------------------------------


@app.timer_trigger(schedule="0 0 * * * *", arg_name="timer", run_on_startup=False)
def hourly(timer: func.TimerRequest) -> None:
    pass


# ---------------------------------------------------------------------------------------------
# Orchestrations and activities (owned by the orchestration engine's tests; add below)
# ---------------------------------------------------------------------------------------------
# Section owned by the orchestration engine. Orchestrators replay: everything they do goes through
# the context; activities hold the side effects.

FLAKY_ATTEMPTS: dict[str, int] = {}


@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return f"Hello {city}!"


@app.activity_trigger(input_name="value")
def double(value: int) -> int:
    return value * 2


@app.activity_trigger(input_name="job")
def flaky(job: dict) -> str:
    """Fails ``job["failures"]`` times per ``job["key"]`` (in this process), then succeeds."""
    count = FLAKY_ATTEMPTS[job["key"]] = FLAKY_ATTEMPTS.get(job["key"], 0) + 1
    if count <= job["failures"]:
        raise RuntimeError(f"flaky attempt {count} failed")
    return f"ok after {count} attempts"


@app.activity_trigger(input_name="job")
def nap(job: dict) -> float:
    """Appends a line to ``job["log"]`` (a file path) on every attempt, then sleeps ``job["seconds"]``."""
    with open(job["log"], "a", encoding="utf-8") as log:
        log.write("start\n")
    time.sleep(job["seconds"])  # the slow activity itself
    return job["seconds"]


@app.orchestration_trigger(context_name="context")
def napper(context: df.DurableOrchestrationContext):
    slept = yield context.call_activity("nap", context.get_input())
    return {"slept": slept}


@app.orchestration_trigger(context_name="context")
def hello_sequence(context: df.DurableOrchestrationContext):
    results = []
    for city in ("Tokyo", "Seattle", "London"):
        results.append((yield context.call_activity("say_hello", city)))
    return results


@app.orchestration_trigger(context_name="context")
def add_and_double(context: df.DurableOrchestrationContext):
    """Entity call + signal + activity (the protocol example)."""
    args = context.get_input()
    entity = df.EntityId("Counter", args["key"])
    total = yield context.call_entity(entity, "add", args["n"])
    doubled = yield context.call_activity("double", total)
    context.signal_entity(entity, "add", 1)
    return {"total": total, "doubled": doubled}


@app.orchestration_trigger(context_name="context")
def sleeper(context: df.DurableOrchestrationContext):
    """A durable timer of ``input`` seconds."""
    from datetime import timedelta

    seconds = float(context.get_input() or 1)
    context.set_custom_status("sleeping")
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    context.set_custom_status("awake")
    return {"slept": seconds}


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    """Waits for the "Approval" event, or times out after ``input`` seconds (task_any with a timer)."""
    from datetime import timedelta

    timeout = float(context.get_input() or 30)
    context.set_custom_status({"stage": "waiting"})
    event = context.wait_for_external_event("Approval")
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=timeout))
    winner = yield context.task_any([event, timer])
    if winner == event:
        timer.cancel()
        context.set_custom_status({"stage": "approved"})
        # The value is a str: the client double-encodes raise_event data (reproduced, not fixed).
        return {"approved": True, "value": event.result, "type": type(event.result).__name__}
    return {"approved": False}


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    count = int(context.get_input() or 5)
    results = yield context.task_all([context.call_activity("double", i) for i in range(count)])
    return sum(results)


@app.orchestration_trigger(context_name="context")
def parent_orch(context: df.DurableOrchestrationContext):
    first = yield context.call_sub_orchestrator("child_orch", 21)
    try:
        yield context.call_sub_orchestrator("child_orch", -1, f"{context.instance_id}-bad-child")
    except Exception as exc:
        return {"child": first, "failure": str(exc)}
    return {"child": first}


@app.orchestration_trigger(context_name="context")
def child_orch(context: df.DurableOrchestrationContext):
    value = context.get_input()
    if value < 0:
        raise ValueError("negative input")
    doubled = yield context.call_activity("double", value)
    return doubled


@app.orchestration_trigger(context_name="context")
def retrying(context: df.DurableOrchestrationContext):
    job = context.get_input()
    options = df.RetryOptions(
        first_retry_interval_in_milliseconds=200, max_number_of_attempts=job["attempts"]
    )
    try:
        result = yield context.call_activity_with_retry("flaky", options, job)
    except Exception as exc:
        return {"failed": str(exc)}
    return {"result": result}


@app.orchestration_trigger(context_name="context")
def counter_loop(context: df.DurableOrchestrationContext):
    """Continue-as-new until ``n`` reaches ``until``; the last generation also waits for "Finish"."""
    state = context.get_input()
    context.set_custom_status({"generation": state["n"]})
    if state["n"] < state["until"]:
        yield context.call_activity("double", state["n"])
        context.continue_as_new({"n": state["n"] + 1, "until": state["until"]})
        return None
    finish = yield context.wait_for_external_event("Finish")
    return {"n": state["n"], "finish": finish}


@app.orchestration_trigger(context_name="context")
def failing(context: df.DurableOrchestrationContext):
    yield context.call_activity("double", 1)
    raise ValueError("orchestrator failed on purpose")


def _orchestration_json(status: df.DurableOrchestrationStatus) -> dict:
    return {
        "instanceId": status.instance_id,
        "name": status.name,
        "runtimeStatus": status.runtime_status.value if status.runtime_status else None,
        "input": status.input_,
        "output": status.output,
        "customStatus": status.custom_status,
        "history": getattr(status, "historyEvents", None),
    }


@app.route(route="orchestrators/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def orchestration_start(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    body = req.get_body()
    try:
        instance_id = await client.start_new(
            req.route_params["name"], req.params.get("id"), json.loads(body) if body else None
        )
    except Exception as exc:  # the SDK raises with the extension's ExceptionMessage
        return _json({"error": str(exc)}, status=400)
    return client.create_check_status_response(req, instance_id)


@app.route(route="orchestrations/{id}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def orchestration_status(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    status = await client.get_status(
        req.route_params["id"], show_history=req.params.get("history") == "1", show_history_output=True
    )
    if not status:  # a missing instance gives an all-None status object, not an exception
        return _json({"exists": False}, status=404)
    return _json(_orchestration_json(status))


@app.route(route="orchestrations", methods=["GET"])
@app.durable_client_input(client_name="client")
async def orchestration_list(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    statuses = req.params.get("status")
    runtime = [df.OrchestrationRuntimeStatus(s) for s in statuses.split(",")] if statuses else None
    found = await client.get_status_by(runtime_status=runtime, instance_id_prefix=req.params.get("prefix"))
    return _json([_orchestration_json(s) for s in found])


@app.route(route="orchestrations/{id}/raise/{event}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def orchestration_raise(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    body = req.get_body()
    try:
        await client.raise_event(
            req.route_params["id"], req.route_params["event"], json.loads(body) if body else None
        )
    except Exception as exc:  # 404/410/400 surface as exceptions in the SDK
        return _json({"error": str(exc)}, status=409)
    return func.HttpResponse(status_code=202)


@app.route(route="orchestrations/{id}/{action:alpha}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def orchestration_control(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    action = req.route_params["action"]
    if action not in ("terminate", "suspend", "resume"):
        return func.HttpResponse(status_code=404)
    try:
        await getattr(client, action)(req.route_params["id"], req.params.get("reason", "by request"))
    except Exception as exc:
        return _json({"error": str(exc)}, status=409)
    return func.HttpResponse(status_code=202)


@app.route(route="orchestrations/{id}", methods=["DELETE"])
@app.durable_client_input(client_name="client")
async def orchestration_purge(
    req: func.HttpRequest, client: df.DurableOrchestrationClient
) -> func.HttpResponse:
    result = await client.purge_instance_history(req.route_params["id"])
    return _json({"instancesDeleted": result.instances_deleted})
