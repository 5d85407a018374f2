"""A plain Functions app (no durableagent) whose HTTP function returns a streamed body.

The function returns Starlette's ``StreamingResponse``, the type the Azure Functions HTTP streams
extension's apps return; the local host must send it chunk by chunk and stop the generator when
the client goes away (it then writes ``closed`` to ``STREAM_PROBE``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import azure.functions as func
from starlette.responses import StreamingResponse

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="count")
async def count(req: func.HttpRequest) -> func.HttpResponse:
    """``n`` lines (forever without ``n``), one chunk each."""
    limit = int(req.params["n"]) if "n" in req.params else None

    async def lines() -> AsyncIterator[bytes]:
        i = 0
        try:
            while limit is None or i < limit:
                yield f"{i}\n".encode()
                i += 1
                await asyncio.sleep(0.01)
        finally:
            probe = os.environ.get("STREAM_PROBE")
            if probe:
                with open(probe, "w") as out:  # noqa: ASYNC230 - a test probe of a few bytes
                    out.write(f"closed after {i}")

    return StreamingResponse(lines(), media_type="text/plain", headers={"x-streamed": "yes"})  # type: ignore[return-value]
