"""The Durable HTTP API (extension ``HttpApiHandler``) served on the RPC listener and the public webhooks.

Why: ``DurableOrchestrationClient`` talks to the host only through these endpoints (protocol.md
§4.3), so their paths, status codes and body encodings must be the extension's, quirks included.
The same :class:`DurableApi` serves both surfaces: the loopback RPC listener (``rpcBaseUrl``) and
``/runtime/webhooks/durabletask/`` on the app port (key-protected by the front door).

This module serves the entity endpoints. Other engines add theirs with :meth:`DurableApi.add_route`
(templates relative to the base, e.g. ``"instances/{instanceId}"``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from durableagent import _faults
from durableagent.local import bench_trace, entity_engine
from durableagent.local import entity_mailbox as mailbox
from durableagent.local.entity_mailbox import EntityMailboxes
from durableagent.local.router import Match, MethodNotAllowed, Router
from durableagent.local.store import Store
from durableagent.logs import log_failure

log = logging.getLogger("durableagent.local.durable_api")
JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class DurableRequest:
    """A request to the Durable HTTP API, from either surface: the loopback RPC or the public one."""

    method: str
    path: str  # raw (percent-encoded) path relative to the API base, no leading '/'
    query: Mapping[str, str]  # first value of each parameter, names lower-cased (like NameValueCollection)
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    surface: str  # "rpc" | "public"
    public_base_url: str  # the app's public origin, e.g. http://127.0.0.1:7071
    raw_query: str = ""  # the undecoded query string (for multi-valued parameters such as runtimeStatus)


@dataclass(frozen=True)
class DurableResponse:
    """An answer of the Durable HTTP API; a None ``content_type`` sends no Content-Type header."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def json(cls, status: int, value: object, headers: tuple[tuple[str, str], ...] = ()) -> DurableResponse:
        """``value`` as a JSON body with ``status`` and extra ``headers``."""
        return cls(status, json.dumps(value).encode(), JSON, headers)

    @classmethod
    def error(cls, status: int, message: str) -> DurableResponse:
        """The extension's ``CreateErrorResponse`` shape (the SDK reads ``ExceptionMessage`` on 400)."""
        return cls.json(status, {"Message": message, "ExceptionMessage": message})


Handler = Callable[[DurableRequest, dict[str, str]], Awaitable[DurableResponse]]


class DurableApi:
    """A small registry of Durable API endpoints, matched with the front door's router."""

    def __init__(self) -> None:
        """Start with no endpoints; the engines add theirs with :meth:`add_route`."""
        self._router: Router[Handler] = Router("")

    def add_route(self, template: str, methods: Iterable[str], handler: Handler) -> None:
        """Serve ``template`` (relative to the API base) for ``methods`` on both surfaces."""
        self._router.add(template, list(methods), handler)

    async def handle(self, request: DurableRequest) -> DurableResponse:
        """Dispatch to the endpoint; 404 when none matches, 500 (no exception text) if it raises."""
        found = self._router.resolve(request.method, request.path)
        if found is None or isinstance(found, MethodNotAllowed):
            return DurableResponse(404)  # the extension answers 404 for both
        assert isinstance(found, Match)
        try:
            return await found.target(request, found.params)
        except Exception as exc:  # noqa: BLE001 - the API's error boundary (the extension answers 500)
            log_failure(log, exc, "durable API %s %s failed", request.method, found.target)
            return DurableResponse.error(500, "Something went wrong while processing your request")


def invalid_key(key: str) -> bool:
    r"""Entity keys must not contain / \ # ? or control characters (extension rule, 400)."""
    return any(c in "/\\#?" or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in key)


def operation_input(body: bytes, content_type: str | None) -> tuple[bool, str | None]:
    """The RequestMessage input for a signal body: ``(ok, json_text_or_None)``.

    The extension: no body → no input; ``application/json`` → the body parsed as JSON (a client's
    ``json.dumps`` of the input arrives double encoded, so this is usually a JSON *string*) and
    serialized again; any other media type → the body as a JSON string.
    """
    if not body:
        return True, None
    text = body.decode("utf-8", errors="replace")
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            value = json.loads(text)
        except ValueError:
            return False, None
        return True, json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return True, json.dumps(text, ensure_ascii=False)


def _continuation(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode() + b"==").decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def install_entity_routes(api: DurableApi, engine: EntityMailboxes, store: Store) -> None:
    """Register ``entities/...`` (signal, read, list) on ``api``."""

    async def signal(req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        name, key = params.get("entityName", ""), params.get("entityKey", "")
        if not name:
            return DurableResponse.error(400, "The entity name must not be empty.")
        if invalid_key(key):
            return DurableResponse.error(
                400, "Entity keys must not contain /, \\, #, ?, or control characters."
            )
        if not engine.has_entity(name):
            return DurableResponse.error(
                400, f"The function '{name}' doesn't exist, is disabled, or is not an entity function."
            )
        op = "delete" if req.method == "DELETE" else req.query.get("op", "")
        ok, input_json = operation_input(req.body, req.headers.get("content-type"))
        if not ok:
            return DurableResponse.error(400, "Could not parse JSON content.")
        await engine.enqueue_operation(mailbox.entity_id(name, key), op, input_json, is_signal=True)
        if _faults.ARMED:
            _faults.crash_point("host.signal.after_commit")
        return DurableResponse(202)

    async def read_or_list(req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        name, key = params.get("entityName"), params.get("entityKey")
        if key and "/" in key:
            return DurableResponse(404)  # the extension's template does not match such paths
        if key:
            eid = mailbox.entity_id(name or "", "" if key == "$" else key)
            row = await store.read(lambda c: mailbox.read_entity(c, eid))
            if bench_trace.ENABLED:
                bench_trace.state_read(eid)
            if row is None:
                return DurableResponse(404)
            return DurableResponse(200, (row.state or "null").encode(), JSON)
        return await list_entities(req, name)

    async def list_entities(req: DurableRequest, name: str | None) -> DurableResponse:
        top_text = req.query.get("top", "")
        top = int(top_text) if top_text.isdigit() and int(top_text) > 0 else 100
        fetch_state = req.query.get("fetchstate", "").lower() == "true"
        after = _continuation(req.headers.get("x-ms-continuation-token"))
        rows = await store.read(
            lambda c: entity_engine.list_entities(
                c,
                name,
                after=after,
                limit=top + 1,
                from_time=req.query.get("lastoperationtimefrom"),
                to_time=req.query.get("lastoperationtimeto"),
            )
        )
        page, more = rows[:top], len(rows) > top
        items = []
        for row in page:
            state = None
            if fetch_state and row.state is not None:
                state = json.loads(row.state)
            items.append(
                {
                    "entityId": {"name": row.name, "key": row.key},
                    "lastOperationTime": row.last_operation,
                    "state": state,
                }
            )
        headers: tuple[tuple[str, str], ...] = ()
        if more:
            token = base64.urlsafe_b64encode(page[-1].entity_id.encode()).rstrip(b"=").decode()
            headers = (("x-ms-continuation-token", token),)
        return DurableResponse.json(200, items, headers)

    api.add_route("entities/{entityName}/{*entityKey}", ["POST", "DELETE"], signal)
    api.add_route("entities/{entityName?}/{*entityKey}", ["GET"], read_or_list)
