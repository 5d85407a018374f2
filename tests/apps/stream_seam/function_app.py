"""AgentFunctionApp(http_streaming=True) with one extra route written like the app's own handlers.

``ticks`` takes a ``func.HttpRequest`` and returns a ``StreamReply`` (the seam a streamed turn goes
through); ``fastapi_function`` registers it as a FastAPI-typed function, as ``register_routes``
does for the contract's routes. Its chunks wait on gates that ``release`` opens.
"""

from __future__ import annotations

import asyncio
import json

import azure.functions as func
from agent_framework import Agent

from durableagent import AgentFunctionApp
from durableagent.http.fastapi_mode import fastapi_function
from durableagent.http.replies import StreamReply
from durableagent.offline.model import OfflineChatClient

app = AgentFunctionApp(agents=[Agent(OfflineChatClient(), name="EchoAgent")], http_streaming=True)

_gates: dict[str, asyncio.Event] = {}
_done: set[str] = set()


def _gate(name: str) -> asyncio.Event:
    return _gates.setdefault(name, asyncio.Event())


async def ticks(req: func.HttpRequest) -> StreamReply:
    key = req.route_params["key"]

    async def chunks():
        for i in range(3):
            yield f"id: {i}\nevent: tick\ndata: {json.dumps({'key': key, 'n': i})}\n\n".encode()
            if i < 2:
                await _gate(f"{key}/{i}").wait()
        _done.add(key)

    return StreamReply(chunks(), status=200, headers={"Cache-Control": "no-cache"})


async def release(req: func.HttpRequest) -> func.HttpResponse:
    key, step = req.route_params["key"], req.route_params["step"]
    done = key in _done
    _gate(f"{key}/{step}").set()
    return func.HttpResponse(json.dumps({"stream_done": done}), mimetype="application/json")


for name, handler, route, method in (
    ("ticks", ticks, "ticks/{key}", "GET"),
    ("release", release, "ticks/{key}/release/{step}", "POST"),
):
    function = fastapi_function(handler, durable_client=False, max_body_bytes=64 * 1024)
    app.function_name(name)(app.route(route=route, methods=[method])(function))
