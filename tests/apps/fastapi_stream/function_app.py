"""A user's app in the model of the Azure Functions HTTP streams extension (no durableagent code).

Written as the extension's own samples are (azurefunctions-extensions-http-fastapi/samples): the
request and response types come from ``azurefunctions.extensions.http.fastapi``. The stream waits
on gates the test opens through another function, so a test sees each chunk while the function's
body is provably still running.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

import azure.durable_functions as df
import azure.functions as func
from azurefunctions.extensions.http.fastapi import (
    JSONResponse,
    PlainTextResponse,
    Request,
    StreamingResponse,
)

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

_gates: dict[str, asyncio.Event] = {}
_finished: set[str] = set()
_closed: set[str] = set()  # streams whose generator was closed (finished, or the client left)


def _gate(name: str) -> asyncio.Event:
    return _gates.setdefault(name, asyncio.Event())


@app.route(route="stream/{key}", methods=["GET"])
async def stream(req: Request) -> StreamingResponse:
    key = req.path_params["key"]
    parts = int(req.query_params.get("parts", "3"))

    async def events():
        try:
            for i in range(parts):
                yield f"id: {i}\ndata: part {i} of {key}\n\n".encode()
                if i < parts - 1:
                    await _gate(f"{key}/{i}").wait()
            _finished.add(key)
        finally:
            _closed.add(key)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"x-invocation": req.headers.get("x-ms-invocation-id", "")},
    )


@app.route(route="release/{key}/{step:int}", methods=["POST"])
async def release(req: Request) -> JSONResponse:
    key, step = req.path_params["key"], req.path_params["step"]
    finished = key in _finished
    _gate(f"{key}/{step}").set()
    return JSONResponse({"released": f"{key}/{step}", "stream_finished": finished})


@app.route(route="finished/{key}", methods=["GET"])
async def finished(req: Request) -> JSONResponse:
    key = req.path_params["key"]
    return JSONResponse({"finished": key in _finished, "closed": key in _closed})


@app.route(route="upload", methods=["POST"])
async def upload(req: Request) -> dict:
    digest, size = hashlib.sha256(), 0
    async for chunk in req.stream():
        digest.update(chunk)
        size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest(), "query": dict(req.query_params)}


@app.route(route="text/{name?}", methods=["GET"])
def text(req: Request) -> PlainTextResponse:  # a sync function: run in the worker's thread pool
    name = req.path_params.get("name") or "world"
    forwarded = {k: v for k, v in req.headers.items() if k.startswith("x-forwarded-")}
    return PlainTextResponse(
        f"Hello, {name}!", status_code=201, headers={"x-path": req.url.path, "x-seen": json.dumps(forwarded)}
    )


@app.route(route="fails", methods=["GET"])
async def fails(req: Request) -> JSONResponse:
    raise RuntimeError("secret detail that must not leave the host")


@app.route(route="classic", methods=["GET"])
def classic(req: func.HttpRequest) -> func.HttpResponse:  # wrong model: does not load
    return func.HttpResponse("never")


@app.route(route="orchestrations", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: Request, client: df.DurableOrchestrationClient) -> JSONResponse:
    instance_id = await client.start_new("hello", None, await req.json())
    return JSONResponse({"id": instance_id}, status_code=202)


@app.route(route="orchestrations/{instance}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def status(req: Request, client: df.DurableOrchestrationClient) -> JSONResponse:
    found = await client.get_status(req.path_params["instance"])
    return JSONResponse(
        {"status": found.runtime_status.value if found.runtime_status else None, "output": found.output}
    )


@app.orchestration_trigger(context_name="context")
def hello(context: df.DurableOrchestrationContext):
    name = context.get_input()
    return f"Hello, {name}!"
