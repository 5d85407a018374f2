"""The app's HTTP functions in the model of the Azure Functions HTTP streams extension (FastAPI types).

Why: Python functions can stream a response body on Azure only through the extension
``azurefunctions-extensions-http-fastapi`` with the app setting ``PYTHON_ENABLE_INIT_INDEXING=1``.
Importing it flips the *whole* worker: ``azurefunctions.extensions.base.HttpV2FeatureChecker``
reports it as soon as any ``WebApp`` subclass is defined (``ModuleTrackerMeta``), and then, in
Azure/azure-functions-python-worker ``azure_functions_worker/http_v2.py`` and ``dispatcher.py``
(``_handle__invocation_request``):

* every HTTP function's trigger parameter must be annotated with a FastAPI ``Request`` (or not at
  all) and its return annotation with a FastAPI response type (``bindings/meta.py``
  ``_check_http_input_type_annotation``), or the function fails to load;
* the host forwards the client's request to a uvicorn server in the worker (capability
  ``HttpUri``); the worker passes that ``Request`` (route parameters copied into ``path_params``)
  in place of the trigger argument and sends whatever the function returns as the response, a
  ``StreamingResponse`` chunk by chunk.

So ``AgentFunctionApp(http_streaming=True)`` registers each route of ``http/routes.py`` through
:func:`fastapi_function`: the FastAPI request becomes the ``func.HttpRequest`` the handlers already
understand (:func:`classic_request`), and their :data:`~durableagent.http.replies.Reply`
becomes a FastAPI response (:func:`fastapi_response`; a ``StreamReply`` a ``StreamingResponse``).
The same validation, problems and JSON as the classic model, by construction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import azure.functions as func
from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from durableagent.http.replies import Reply, StreamReply

ClassicFunction = Callable[..., Awaitable[Reply]]
FastApiFunction = Callable[..., Awaitable[Response]]
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection"})


async def classic_request(request: Request, max_body_bytes: int) -> func.HttpRequest:
    """``request`` as the ``func.HttpRequest`` the classic worker would have built.

    Repeated headers are joined with ``,`` (as the Functions host's ``StringValues``); route
    parameters are the ``path_params`` the worker copied in. The body stops being read at the
    chunk that crosses ``max_body_bytes``: enough for the contract to answer 413, no more.
    """
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body_bytes:
            break
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return func.HttpRequest(
        method=request.method,
        url=public_url(request),
        headers=headers,
        params=dict(request.query_params),
        route_params={k: str(v) for k, v in request.path_params.items()},
        body=bytes(body),
    )


def public_url(request: Request) -> str:
    """The URL the client used: the worker's request is the host's forwarded copy.

    The Functions host forwards it with YARP's default transforms (Azure/azure-functions-host
    ``DefaultHttpProxyService``): the Host header becomes the worker's loopback address and the
    original goes into ``X-Forwarded-Host`` (set by the host, replacing a client's own), the scheme
    into ``X-Forwarded-Proto``. Links (a 202's ``Location``) must name the original.
    """
    url = request.url
    host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if host:
        url = url.replace(netloc=host)
    if proto in ("http", "https"):
        url = url.replace(scheme=proto)
    return str(url)


def fastapi_response(reply: Reply) -> Response:
    """A handler's reply as a FastAPI response: a stream stays a stream.

    A stream is a :class:`StreamReply`, or a ``func.HttpResponse`` carrying a ``body_iterator``
    (the shape of Starlette's ``StreamingResponse``, which the local host also streams).

    A ``func.HttpResponse`` keeps its status, headers and body; its ``Content-Type`` is the one the
    classic worker would send (``azure.functions.http`` ``HttpResponseConverter.encode``: the
    mimetype, with the charset for ``text/*``).
    """
    if isinstance(reply, StreamReply):
        return StreamingResponse(
            reply.chunks, status_code=reply.status, headers=dict(reply.headers), media_type=reply.media_type
        )
    chunks = getattr(reply, "body_iterator", None)
    if chunks is not None and hasattr(chunks, "__anext__"):  # a response in Starlette's streaming shape
        streamed = {k.lower(): v for k, v in reply.headers.items() if k.lower() not in _HOP_BY_HOP}
        return StreamingResponse(chunks, status_code=reply.status_code, headers=streamed)
    headers = {k.lower(): v for k, v in reply.headers.items() if k.lower() not in _HOP_BY_HOP}
    if "content-type" not in headers and reply.mimetype:
        text = reply.mimetype.startswith("text/")
        headers["content-type"] = f"{reply.mimetype}; charset={reply.charset}" if text else reply.mimetype
    return Response(content=reply.get_body(), status_code=reply.status_code, headers=headers)


def fastapi_function(
    classic: ClassicFunction, *, durable_client: bool, max_body_bytes: int
) -> FastApiFunction:
    """The FastAPI-typed HTTP function that runs ``classic`` (same parameters otherwise).

    The annotations are what the worker checks: ``req: Request`` and ``-> Response``.
    """
    if durable_client:

        async def with_client(req: Request, client: str, context: func.Context) -> Response:
            request = await classic_request(req, max_body_bytes)
            return fastapi_response(await classic(request, client, context))

        function: FastApiFunction = with_client
    else:

        async def plain(req: Request) -> Response:
            return fastapi_response(await classic(await classic_request(req, max_body_bytes)))

        function = plain
    function.__name__ = function.__qualname__ = classic.__name__
    function.__doc__ = classic.__doc__
    return function
