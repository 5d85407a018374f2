"""Instance endpoints of the Durable HTTP API that read or purge: status, list, delete.

Why: ``get_status``/``get_status_by``/``purge_instance_history[_by]`` parse exactly these answers;
the codes are the extension's (202 + ``Location`` + ``Retry-After: 5`` while an instance runs, 200
when it has ended, 404 with an empty body when it is unknown; purge 200 ``{"instancesDeleted": n}``
or 404). Listing pages with ``top`` and the ``x-ms-continuation-token`` header.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from durableagent.local.durable_api import DurableRequest, DurableResponse
from durableagent.local.orchestrations import status, tables
from durableagent.local.orchestrations.api import InstanceApi, flag, param
from durableagent.local.orchestrations.model import RuntimeStatus
from durableagent.local.wire import orchestration_json as wire

DEFAULT_PAGE = 100
_STATUS_BY_NAME = {s.value: s for s in RuntimeStatus}


class QueryApi:
    """Status, list and purge of instances (the read side of ``InstanceApi``'s store)."""

    def __init__(self, instances: InstanceApi) -> None:
        """Share ``instances``' store and its management links."""
        self.instances = instances
        self.store = instances.store

    async def get(self, req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        """``GET instances/{id}``: 202 while running, 200 once ended (500 if failed and asked), else 404."""
        instance_id = params.get("instanceId")
        if not instance_id:
            return await self.list(req)
        show_history = flag(req, "showHistory", False)

        def read(
            conn: sqlite3.Connection,
        ) -> tuple[tables.InstanceRow | None, list[wire.HistoryEvent] | None]:
            row = tables.get_instance(conn, instance_id)
            if row is None or not show_history or row.status is RuntimeStatus.PENDING:
                return row, None
            return row, tables.history(conn, instance_id)

        row, history = await self.store.read(read)
        if row is None:
            return DurableResponse(404)
        body = status.status_payload(
            row,
            show_input=flag(req, "showInput", True),
            history=history,
            show_history_output=flag(req, "showHistoryOutput", False),
        )
        if row.is_running:
            location = self.instances.links(req, instance_id)["statusQueryGetUri"]
            return DurableResponse.json(202, body, (("Location", location), ("Retry-After", "5")))
        code = (
            500
            if row.status is RuntimeStatus.FAILED and flag(req, "returnInternalServerErrorOnFailure", False)
            else 200
        )
        return DurableResponse.json(code, body)

    async def list(self, req: DurableRequest) -> DurableResponse:
        """``GET instances``: matching instances, oldest first, ``top`` a page, with a continuation token."""
        top_text = req.query.get("top", "")
        top = int(top_text) if top_text.isdigit() and int(top_text) > 0 else DEFAULT_PAGE
        after = _token(req.headers.get("x-ms-continuation-token"))
        where, args = _filters(req)
        if after is not None:
            where.append("(created_time, instance_id) > (?, ?)")
            args.extend(after)
        # where holds only fixed fragments with ? placeholders; values are bound.
        sql = "SELECT instance_id FROM orch_instances" + (" WHERE " + " AND ".join(where) if where else "")  # noqa: S608
        sql += " ORDER BY created_time, instance_id LIMIT ?"

        def read(conn: sqlite3.Connection) -> list[tables.InstanceRow]:
            ids = [r[0] for r in conn.execute(sql, (*args, top + 1)).fetchall()]
            return [row for row in (tables.get_instance(conn, i) for i in ids) if row is not None]

        rows = await self.store.read(read)
        page, more = rows[:top], len(rows) > top
        show_input = flag(req, "showInput", True)
        items = [status.status_payload(row, show_input=show_input) for row in page]
        headers: tuple[tuple[str, str], ...] = ()
        if more:
            last = page[-1]
            token = base64.urlsafe_b64encode(f"{last.created_time}\n{last.instance_id}".encode()).decode()
            headers = (("x-ms-continuation-token", token.rstrip("=")),)
        return DurableResponse.json(200, items, headers)

    async def delete(self, req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        """Purge one instance, or every one matching the filters (``createdTimeFrom`` required)."""
        instance_id = params.get("instanceId")
        if instance_id:
            deleted = await self.store.write(lambda conn: tables.delete_instance(conn, instance_id))
            return DurableResponse.json(200, {"instancesDeleted": 1}) if deleted else DurableResponse(404)
        if _time(req, "createdTimeFrom") is None:
            return DurableResponse.json(400, "Please provide value for 'createdTimeFrom' parameter.")
        if _time(req, "createdTimeTo") is None:
            req = _with_query(req, "createdtimeto", wire.format_time(datetime.now(timezone.utc)))
        where, args = _filters(req, prefix=False)

        def purge(conn: sqlite3.Connection) -> int:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT instance_id FROM orch_instances WHERE " + " AND ".join(where),  # noqa: S608 - bound values
                    args,
                )
            ]
            return sum(tables.delete_instance(conn, i) for i in ids)

        deleted = await self.store.write(purge)
        return DurableResponse.json(200, {"instancesDeleted": deleted}) if deleted else DurableResponse(404)


def _filters(req: DurableRequest, *, prefix: bool = True) -> tuple[list[str], list[object]]:
    where: list[str] = []
    args: list[object] = []
    value = param(req, "instanceIdPrefix") if prefix else None
    if value:
        where.append("substr(instance_id, 1, ?) = ?")
        args.extend((len(value), value))
    for name, op in (("createdTimeFrom", ">="), ("createdTimeTo", "<=")):
        moment = _time(req, name)
        if moment is not None:
            where.append(f"created_time {op} ?")
            args.append(wire.format_time(moment))
    statuses = _statuses(req)
    if statuses:
        where.append(f"status IN ({', '.join('?' for _ in statuses)})")
        args.extend(s.value for s in statuses)
    return where, args


def _statuses(req: DurableRequest) -> list[RuntimeStatus]:
    """``runtimeStatus``: every value of every occurrence, comma-separated; unknown names ignored."""
    raw = [v for k, v in parse_qsl(req.raw_query, keep_blank_values=True) if k.lower() == "runtimestatus"]
    return [
        _STATUS_BY_NAME[v.strip()] for value in raw for v in value.split(",") if v.strip() in _STATUS_BY_NAME
    ]


def _time(req: DurableRequest, name: str) -> datetime | None:
    value = req.query.get(name.lower())
    if not value:
        return None
    try:
        return wire.parse_time(value.replace(" ", "+"))
    except ValueError:
        return None


def _with_query(req: DurableRequest, name: str, value: str) -> DurableRequest:
    query = dict(req.query)
    query[name] = value
    return DurableRequest(
        req.method, req.path, query, req.headers, req.body, req.surface, req.public_base_url, req.raw_query
    )


def _token(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    try:
        created, _, instance_id = base64.urlsafe_b64decode(text.encode() + b"==").decode().partition("\n")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (created, instance_id) if instance_id else None
