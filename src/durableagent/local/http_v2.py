"""HTTP functions in the model of the Azure Functions HTTP streams extension (FastAPI types).

Why: an app that imports ``azurefunctions.extensions.http.fastapi`` (or any web extension built on
``azurefunctions-extensions-base``) has *all* its HTTP functions take a FastAPI ``Request`` and
return a FastAPI response, a ``StreamingResponse`` sent chunk by chunk. The local host runs any
such app the way the Python worker does (Azure/azure-functions-python-worker):

* detection (``http_v2.py`` ``HttpV2Registry._check_http_v2_enabled``): the extension base's
  ``HttpV2FeatureChecker.http_v2_enabled()`` after the app is imported, unless
  ``PYTHON_ENABLE_INIT_INDEXING`` is false-like; the worker only starts the server the host
  forwards to when the setting is true (``dispatcher.py`` ``_handle__worker_init_request``), so an
  app that imports the extension without it would not be served on Azure: the host refuses it;
* loading (``bindings/meta.py`` ``_check_http_input_type_annotation`` / ``..._output_...``): a
  trigger parameter annotated with anything but the extension's request type, or a return
  annotation that is not one of its response types, is a function load error;
* invocation (``dispatcher.py`` ``_handle__invocation_request``): the request is the extension's
  request type over this very connection (the worker's gets the host's forwarded one, with the
  ``x-ms-invocation-id`` header), route parameters copied in by the extension's own
  ``RequestSynchronizer``; the other bindings are decoded as usual; the function's result is the
  response: a Starlette ``Response`` is itself an ASGI app and is run on the connection (streams
  stream), anything else is serialised to JSON as the worker's FastAPI route does
  (``jsonable_encoder``, status 200).

The body has already been read within the host's limit (``http_io.read_body``), so the request
replays it and then passes the connection's own ``receive`` on: a client that goes away is seen
by a streaming response (``http.disconnect``).
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from durableagent.local import http_io
from durableagent.local.indexing import FunctionPlan, HttpFunction, IndexingError
from durableagent.local.invoke import Invoker

if TYPE_CHECKING:  # Starlette is imported only by apps in this model (not at every host start)
    from starlette.requests import Request
    from starlette.responses import Response

BASE_MODULE = "azurefunctions.extensions.base"
INVOCATION_HEADER = b"x-ms-invocation-id"  # the worker's constants.X_MS_INVOCATION_ID
INIT_INDEXING = "PYTHON_ENABLE_INIT_INDEXING"
_TRUE_LIKE = frozenset({"1", "true", "t", "yes", "y"})  # worker utils.common.is_true_like
_FALSE_LIKE = frozenset({"0", "false", "f", "no", "n"})  # worker utils.common.is_false_like
_SET_BY_HOST = frozenset(
    {INVOCATION_HEADER, b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-for", b"x-forwarded-prefix"}
)


@dataclass(frozen=True)
class HttpV2:
    """The web extension the app imported: its request type, synchronizer and response check."""

    extension: str  # the module that defined the WebApp (``ModuleTrackerMeta.get_module()``)
    request_type: type[Request]
    synchronizer: Any  # the extension's RequestSynchronizer (sync_route_params)
    responses: Any  # ResponseTrackerMeta (check_type)

    def load_error(self, function: HttpFunction, plan: FunctionPlan) -> str | None:
        """Why the worker would not load ``function`` in this model (None: it loads)."""
        trigger = function.function.get_trigger().name
        hints = _hints(plan.fn)
        annotation = hints.get(trigger)
        if annotation is not None and not (
            isinstance(annotation, type) and issubclass(annotation, self.request_type)
        ):
            return (
                f'type of {trigger} binding in function.json "httpTrigger" does not match its '
                f'Python annotation "{getattr(annotation, "__name__", annotation)}" (the app imports '
                f"{self.extension}: HTTP functions take its Request)"
            )
        returned = hints.get("return")
        if returned is not None and not self.responses.check_type(returned):
            return (
                f'Python return annotation "{getattr(returned, "__name__", returned)}" does not match '
                f'binding type "http" (the app imports {self.extension}: HTTP functions return '
                "its responses)"
            )
        return None


def detect(environ: Mapping[str, str]) -> HttpV2 | None:
    """The app's web extension, once the app is imported; None for the classic model.

    Raises:
        IndexingError: the extension is imported but ``PYTHON_ENABLE_INIT_INDEXING`` is not set.
    """
    base = sys.modules.get(BASE_MODULE)
    if base is None or not base.HttpV2FeatureChecker.http_v2_enabled():
        return None
    setting = environ.get(INIT_INDEXING, "").strip().lower()
    if setting in _FALSE_LIKE:
        return None
    extension = str(base.ModuleTrackerMeta.get_module())
    if setting not in _TRUE_LIKE:
        raise IndexingError(
            f"the app imports {extension} (HTTP streams: FastAPI request and response types) but "
            f"{INIT_INDEXING} is not set to 1; without it the Python worker does not serve its HTTP "
            f'functions. Add "{INIT_INDEXING}": "1" to local.settings.json Values (and to the '
            "Function App's settings on Azure)."
        )
    requests = base.RequestTrackerMeta
    return HttpV2(
        extension, requests.get_request_type(), requests.get_synchronizer(), base.ResponseTrackerMeta
    )


def banner_line(v2: HttpV2) -> str:
    """The startup listing's line for this model."""
    return (
        f"HTTP model: HTTP streams ({v2.extension}): functions take its Request and return its "
        "responses; streamed bodies are sent chunk by chunk"
    )


def _hints(fn: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable annotations: the worker falls back the same way
        return dict(getattr(fn, "__annotations__", {}))


def request_scope(scope: http_io.Scope, invocation_id: str) -> http_io.Scope:
    """The request's ASGI scope for the function, with the headers the Functions host adds.

    The host forwards the request to the worker with YARP's default transforms
    (``DefaultHttpProxyService.StartForwarding`` in Azure/azure-functions-host, ``SendAsync``
    with ``HttpTransformer.Default``): ``X-Forwarded-Host/-Proto/-For`` are *set* from the original
    request (a client's own values replaced), and the invocation id header is added. The Host
    header stays the client's here (the worker's would be its loopback address).
    """
    headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _SET_BY_HOST]
    host = next((v for k, v in scope["headers"] if k.lower() == b"host"), None)
    if host is not None:
        headers.append((b"x-forwarded-host", host))
    headers.append((b"x-forwarded-proto", str(scope.get("scheme", "http")).encode("latin-1")))
    client = scope.get("client")
    if client:
        headers.append((b"x-forwarded-for", str(client[0]).encode("latin-1")))
    headers.append((INVOCATION_HEADER, invocation_id.encode("latin-1")))
    return {**scope, "headers": headers, "path_params": {}}


def replay(body: bytes, receive: http_io.Receive) -> http_io.Receive:
    """A ``receive`` that gives ``body`` once, then the connection's own messages (disconnect)."""
    pending = True

    async def replayed() -> http_io.Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def serve(
    v2: HttpV2,
    invoker: Invoker,
    plan: FunctionPlan,
    call: tuple[str, Mapping[str, Any], str],
    connection: tuple[http_io.Scope, http_io.Receive, http_io.Send],
    body: bytes,
    route_params: Mapping[str, str],
    trace: tuple[str | None, str],
) -> None:
    """Invoke the function with the extension's request and run its result on the connection.

    ``call`` is (trigger parameter, other inputs, invocation id); ``trace`` the W3C headers.
    Exceptions from the function propagate before anything is sent (the caller answers 500).
    """
    trigger, inputs, invocation_id = call
    scope, receive, send = connection
    function_scope = request_scope(scope, invocation_id)
    function_receive = replay(body, receive)
    request = v2.request_type(function_scope, function_receive)
    v2.synchronizer.sync_route_params(request, dict(route_params))
    result, _outs = await invoker.call(
        plan, inputs, invocation_id, trace[0], trace[1], overrides={trigger: request}
    )
    response = result if isinstance(result, _response_type()) else _json(result)
    await response(function_scope, function_receive, send)


def _response_type() -> type[Response]:
    from starlette.responses import Response

    return Response


def _json(result: Any) -> Response:
    from fastapi.encoders import jsonable_encoder  # the extension depends on FastAPI
    from starlette.responses import JSONResponse

    return JSONResponse(jsonable_encoder(result))
