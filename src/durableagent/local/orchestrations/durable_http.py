"""Durable HTTP (``context.call_http``): the extension's built-in HTTP activity, run by the host.

Why: the SDK emits a ``CallHttp`` action; the extension schedules it as the reserved activity
``BuiltIn::HttpActivity`` (``HttpOptions.HttpTaskActivityReservedName``) and
``TaskHttpActivityShim`` sends the request: headers as given (``Content-Type`` applies to the
content, default ``text/plain``; multipart refused), content as a string, and answers a
``DurableHttpResponse`` JSON (``statusCode``, ``headers`` — one string per header, an array for
repeated ones —, ``content``). A transport failure fails the task (``HttpRequestException``).
A ``tokenSource`` (managed identity) needs Azure AD: refused here.

202 polling (``DurableOrchestrationContext.CallHttpAsync``): while the answer is 202 and the request
has ``asynchronousPatternEnabled``, wait ``Retry-After`` seconds (else
``defaultHttpAsyncRequestSleepTimeMillseconds``, 30 s) and GET the ``Location`` with the same
headers minus ``x-functions-key``; the final answer completes the task. The extension leaves that
loop to out-of-process SDKs (extension PR #2142) and azure-functions-durable 1.x does not
implement it (azure-functions-durable-python#380) nor send the flag, so a Python orchestrator
gets the 202 itself, on Azure and here. The poll state is durable: after a 202 the work row's
input becomes the poll request, so a restart resumes polling instead of re-sending the original.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import aiohttp

from durableagent.local.orchestrations.work import ActivityRow
from durableagent.local.store import Store
from durableagent.local.wire import orchestration_json as wire

ACTIVITY_NAME = "BuiltIn::HttpActivity"
DEFAULT_POLL_MS = 30000  # HttpOptions.DefaultAsyncRequestSleepTimeMilliseconds
REQUEST_TIMEOUT_S = 100.0  # System.Net.Http.HttpClient's default Timeout
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$")


class HttpCallRefused(ValueError):
    """The request cannot be sent (the message becomes the TaskFailed reason)."""


def _timeout(request: dict[str, Any]) -> float:
    value = request.get("timeout")
    match = _TIMESPAN.match(value) if isinstance(value, str) else None
    if match is None:
        return REQUEST_TIMEOUT_S
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _header_lists(headers: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(headers, dict):
        for name, value in headers.items():
            values = value if isinstance(value, list) else [value]
            out[str(name)] = [str(v) for v in values]
    return out


async def send(request: dict[str, Any]) -> dict[str, Any]:
    """One request, as ``TaskHttpActivityShim.RunAsync`` sends it; returns the DurableHttpResponse."""
    if request.get("tokenSource"):
        raise HttpCallRefused(
            "call_http with a token_source (managed identity) needs Azure: not run locally."
        )
    method, uri = str(request.get("method") or "GET").upper(), request.get("uri")
    if not isinstance(uri, str) or not uri.startswith(("http://", "https://")):
        raise HttpCallRefused("call_http needs an absolute http(s) uri.")
    headers = _header_lists(request.get("headers"))
    content_type = ""
    for name in [n for n in headers if n.lower() == "content-type"]:
        for value in headers.pop(name):
            if "multipart" in value:
                raise HttpCallRefused("Multipart content is not supported with CallHttpAsync.")
            content_type = value
    content = request.get("content")
    out_headers = [(name, value) for name, values in headers.items() for value in values]
    data: bytes | None = None
    if content is not None:
        data = str(content).encode("utf-8")
        out_headers.append(("Content-Type", content_type or "text/plain"))
    timeout = aiohttp.ClientTimeout(total=_timeout(request))
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, uri, headers=out_headers, data=data, allow_redirects=True) as resp,
    ):
        body = await resp.text(errors="replace")
        merged: dict[str, list[str]] = {}
        for name, value in resp.headers.items():
            merged.setdefault(name, []).append(value)
    return {
        "statusCode": resp.status,
        "headers": {k: v[0] if len(v) == 1 else v for k, v in merged.items()},
        "content": body,
    }


def _header(response: dict[str, Any], name: str) -> str | None:
    for key, value in response["headers"].items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def poll_request(request: dict[str, Any], location: str) -> dict[str, Any]:
    """``CreateLocationPollRequest``: GET the Location, same headers but ``x-functions-key``."""
    headers = {k: v for k, v in (request.get("headers") or {}).items() if k.lower() != "x-functions-key"}
    poll = {"method": "GET", "uri": location, "headers": headers, "asynchronousPatternEnabled": True}
    for key in ("tokenSource", "timeout"):
        if request.get(key) is not None:
            poll[key] = request[key]
    return poll


def poll_delay(response: dict[str, Any]) -> float:
    """Seconds to wait before polling a 202 again: its ``Retry-After`` seconds, else the 30 s default."""
    retry_after = _header(response, "Retry-After")
    if retry_after is not None and retry_after.strip().isdigit():
        return float(retry_after.strip())
    return DEFAULT_POLL_MS / 1000


def _save_request(row_id: int, request: dict[str, Any]) -> Callable[[sqlite3.Connection], None]:
    def write(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE orch_activities SET input = ? WHERE id = ?", (json.dumps(request), row_id))

    return write


async def perform(store: Store, row: ActivityRow, stopping: Callable[[], bool]) -> wire.HistoryEvent | None:
    """Run the HTTP task of ``row``; ``None`` when the host stops mid-poll (the row is redelivered)."""
    try:
        request = json.loads(row.input or "null")
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return wire.task_failed(_now(), row.seq, "call_http: the request is not a JSON object.", "")
    while True:
        try:
            response = await send(request)
        except HttpCallRefused as refused:
            return wire.task_failed(_now(), row.seq, str(refused), "")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            target = f"{request.get('method', 'GET')} {request.get('uri')}"
            reason = f"call_http: {target} failed ({type(exc).__name__})."
            return wire.task_failed(_now(), row.seq, reason, "")
        location = _header(response, "Location")
        if response["statusCode"] != 202 or not request.get("asynchronousPatternEnabled") or not location:
            return wire.task_completed(_now(), row.seq, json.dumps(response))
        delay = poll_delay(response)
        request = poll_request(request, location)
        await store.write(_save_request(row.id, request))
        if not await _sleep(delay, stopping):
            return None


async def _sleep(seconds: float, stopping: Callable[[], bool]) -> bool:
    """Sleep, waking early (False) when the host stops."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while (left := until - loop.time()) > 0:
        if stopping():
            return False
        await asyncio.sleep(min(left, 0.2))
    return not stopping()


def _now() -> datetime:
    return datetime.now(timezone.utc)
