"""Instance endpoints of the Durable HTTP API that change instances: start, raise, terminate, ….

Why: ``DurableOrchestrationClient`` drives orchestrations only through these endpoints; their
status codes and bodies are the extension's (``HttpApiHandler`` / ``DurableClient``), because the SDK
branches on them (400 + ``ExceptionMessage`` for an unknown orchestrator, 410 for a finished
instance, …). Every accepted request is committed before it is acknowledged.

Invariant: no response body carries exception text; the messages are the extension's own.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from durableagent.local.durable_api import DurableRequest, DurableResponse
from durableagent.local.host_context import HostContext
from durableagent.local.orchestrations import rewind, tables, versioning
from durableagent.local.orchestrations.catalog import unknown_function
from durableagent.local.orchestrations.model import MessageKind, RuntimeStatus
from durableagent.local.orchestrations.runtime import OrchestrationEngine
from durableagent.local.wire import orchestration_json as wire
from durableagent.local.wire.client_binding import DEFAULT_CONNECTION, management_urls

MAX_INSTANCE_ID_LENGTH = 256
_BAD_ARGUMENTS = "One or more of the arguments submitted is incorrect"
_SERVER_ERROR = "Something went wrong while processing your request"
_GONE_FOR_EVENTS = {
    RuntimeStatus.FAILED,
    RuntimeStatus.CANCELED,
    RuntimeStatus.TERMINATED,
    RuntimeStatus.COMPLETED,
}


def error(status: int, message: str, detail: str | None = None) -> DurableResponse:
    """``CreateErrorResponse``: ``Message`` plus, for an exception, its ``ExceptionMessage``."""
    body: dict[str, str] = {"Message": message}
    if detail is not None:
        body["ExceptionMessage"] = detail
    return DurableResponse.json(status, body)


def param(req: DurableRequest, name: str) -> str | None:
    """A query parameter's whole first value (the host's ``query`` keeps only its first comma part)."""
    for key, value in parse_qsl(req.raw_query, keep_blank_values=True):
        if key.lower() == name.lower():
            return value
    return None


def flag(req: DurableRequest, name: str, default: bool) -> bool:
    """``bool.TryParse`` of a query parameter (case-insensitive ``true``/``false``), else ``default``."""
    value = req.query.get(name.lower(), "").strip().lower()
    return {"true": True, "false": False}.get(value, default)


class InstanceApi:
    """Start, raise-event, terminate/suspend/resume/restart/rewind: each committed, then the engine woken."""

    def __init__(self, ctx: HostContext, engine: OrchestrationEngine) -> None:
        """Serve the instance endpoints of the host in ``ctx``, waking ``engine`` after each commit."""
        self.ctx = ctx
        self.engine = engine
        self.store = ctx.store

    def links(self, req: DurableRequest, instance_id: str) -> dict[str, str]:
        """The management URLs of ``instance_id`` (``statusQueryGetUri``...) as the SDK reads them."""
        hub = req.query.get("taskhub") or self.ctx.hub_name
        connection = req.query.get("connection") or DEFAULT_CONNECTION
        code = f"code={self.ctx.keys.system}" if self.ctx.keys.system else ""
        return management_urls(
            req.public_base_url,
            task_hub=hub,
            connection=connection,
            required_query=code,
            instance_id=instance_id,
        )

    def check_status(self, req: DurableRequest, instance_id: str) -> DurableResponse:
        """``CreateCheckStatusResponse``: 202, the management links, ``Location``, ``Retry-After: 10``."""
        links = self.links(req, instance_id)
        links.pop("rewindPostUri", None)
        return DurableResponse.json(
            202, links, (("Location", links["statusQueryGetUri"]), ("Retry-After", "10"))
        )

    async def start(self, req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        """``POST orchestrators/{functionName}[/{instanceId}]``: 400 for an unknown name or bad id."""
        name = params.get("functionName", "")
        function = self.ctx.index.orchestrators.get(name.lower())
        if function is None:
            names = frozenset(f.durable_name for f in self.ctx.index.orchestrators.values())
            return error(400, _BAD_ARGUMENTS, unknown_function(name, "orchestrator", names))
        instance_id = params.get("instanceId") or uuid.uuid4().hex
        problem = _invalid_instance_id(instance_id)
        if problem is not None:
            return error(400, _BAD_ARGUMENTS, problem)
        input_text: str | None = None
        if req.body:
            try:
                input_text = _compact(json.loads(req.body))
            except ValueError:
                return error(400, "Invalid JSON content")
        # start_new(version=...) sends ?version=; otherwise host.json defaultVersion (versioning.py).
        return await self.create(req, instance_id, function.durable_name, input_text, param(req, "version"))

    async def create(
        self,
        req: DurableRequest,
        instance_id: str,
        name: str,
        input_text: str | None,
        requested_version: str | None = None,
    ) -> DurableResponse:
        """Create (or replace a finished) instance, commit its START message, answer 202 + links.

        An instance of that id that is still running is left alone and answered 500 with the extension's
        message.
        """
        stamp = wire.format_time(datetime.now(timezone.utc))
        version = versioning.version_for_new_instance(requested_version, self.ctx.settings.versioning)

        def write(conn: sqlite3.Connection) -> RuntimeStatus | None:
            existing = tables.get_instance(conn, instance_id)
            if existing is not None and existing.is_running:
                return existing.status
            tables.create_instance(
                conn, instance_id, name, uuid.uuid4().hex, input_text, stamp, version=version
            )
            return None

        running = await self.store.write(write)
        if running is not None:
            return error(
                500,
                _SERVER_ERROR,
                f"An Orchestration instance with the status {running.value} already exists.",
            )
        self.engine.wake(instance_id)
        return self.check_status(req, instance_id)

    async def raise_event(self, req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        """``POST instances/{id}/raiseEvent/{name}``: 404 unknown, 410 ended, else 202 once queued."""
        instance_id, name = params.get("instanceId", ""), params.get("eventName", "")
        row = await self.store.read(lambda conn: tables.get_instance(conn, instance_id))
        if row is None:
            return DurableResponse(404)
        if row.status in _GONE_FOR_EVENTS:
            return DurableResponse(410)
        media = req.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            return error(400, "Only application/json request content is supported")
        try:
            value = json.loads(req.body) if req.body.strip() else None
        except ValueError:
            return error(400, "Invalid JSON content")
        event = wire.event_raised(datetime.now(timezone.utc), name, _compact(value))
        return await self._post(instance_id, MessageKind.EVENT, event=event)

    async def operation(self, req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        """``POST instances/{id}/{operation}``: terminate, suspend, resume, restart or rewind."""
        instance_id, operation = params.get("instanceId", ""), params.get("operation", "").lower()
        if operation not in ("terminate", "suspend", "resume", "restart", "rewind"):
            return DurableResponse(404)
        row = await self.store.read(lambda conn: tables.get_instance(conn, instance_id))
        if operation == "restart":
            return await self._restart(req, instance_id, row)
        if row is None:
            return DurableResponse(404)
        if operation == "rewind":
            return await self._rewind(instance_id, row, param(req, "reason"))
        if row.status.is_terminal:
            return DurableResponse(410)
        reason = param(req, "reason")
        if operation == "terminate":
            return await self._post(instance_id, MessageKind.TERMINATE, reason=reason)
        suspended = row.status is RuntimeStatus.SUSPENDED
        if (operation == "suspend") == suspended:
            verb = "suspend" if operation == "suspend" else "resume"
            detail = (
                f"Cannot {verb} the orchestration instance {instance_id} because instance is in the"
                f" {row.status.value} state."
            )
            return error(500, _SERVER_ERROR, detail)
        kind = MessageKind.SUSPEND if operation == "suspend" else MessageKind.RESUME
        return await self._post(instance_id, kind, reason=reason)

    async def _rewind(self, instance_id: str, row: tables.InstanceRow, reason: str | None) -> DurableResponse:
        """``HandleRewindInstanceRequestAsync``: 410 if completed/canceled/terminated, 500 if not failed."""
        if row.status.is_terminal and row.status is not RuntimeStatus.FAILED:
            return DurableResponse(410)
        if row.status is not RuntimeStatus.FAILED:  # DurableClient.RewindAsync throws
            return error(
                500,
                _SERVER_ERROR,
                "The rewind operation is only supported on failed orchestration instances.",
            )
        now = datetime.now(timezone.utc)
        try:
            effects = await self.store.write(lambda conn: rewind.rewind(conn, instance_id, reason, now))
        except rewind.RewindRefused as refused:
            return error(501, "The local host cannot rewind this instance.", refused.message)
        self.engine.apply(effects)
        return DurableResponse(202)

    async def _restart(
        self, req: DurableRequest, instance_id: str, row: tables.InstanceRow | None
    ) -> DurableResponse:
        if row is None:
            detail = f"An orchestrastion with the instanceId {instance_id} was not found."
            return error(400, "InstanceId does not match a valid orchestration instance.", detail)
        new_id = uuid.uuid4().hex if flag(req, "restartWithNewInstanceId", True) else instance_id
        return await self.create(req, new_id, row.name, row.input)

    async def _post(
        self,
        instance_id: str,
        kind: MessageKind,
        *,
        event: wire.HistoryEvent | None = None,
        reason: str | None = None,
    ) -> DurableResponse:
        stamp = wire.format_time(datetime.now(timezone.utc))

        def write(conn: sqlite3.Connection) -> bool:
            if tables.get_instance(conn, instance_id) is None:
                return False
            tables.post(conn, instance_id, kind, visible_at=stamp, event=event, reason=reason)
            return True

        if not await self.store.write(write):
            return DurableResponse(404)  # purged meanwhile
        self.engine.wake(instance_id)
        return DurableResponse(202)


def _compact(value: object) -> str:
    """Newtonsoft's serialization of a JToken: compact, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _invalid_instance_id(instance_id: str) -> str | None:
    if instance_id.startswith("@"):
        return "Orchestration instance ids must not start with @."
    if any(c in "/\\#?" or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in instance_id):
        return "Orchestration instance ids must not contain /, \\, #, ?, or control characters."
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        return f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters."
    return None
