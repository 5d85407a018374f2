"""Builders shared by the contract tests: real `azure.functions` requests, adapted for validation."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
from werkzeug.datastructures import Headers

from durableagent.http.edge import AzureOpenAPIRequest

HOST = "http://localhost:7071"
RUN_URL = f"{HOST}/api/agents/WeatherAgent/run"
JSON = {"Content-Type": "application/json"}


def http_request(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> func.HttpRequest:
    """A `func.HttpRequest` for `path` (relative to the host); dicts and lists are sent as JSON."""
    headers = dict(headers or {})
    if isinstance(body, dict | list):
        raw = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = body or b""
    return func.HttpRequest(method, HOST + path, headers=headers, body=raw)


def adapted(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> AzureOpenAPIRequest:
    """`http_request(...)` seen through openapi-core's Request protocol."""
    return AzureOpenAPIRequest(http_request(method, path, body, headers))


class AzureOpenAPIResponse:
    """A ``func.HttpResponse`` seen through openapi-core's ``Response`` protocol (tests check replies)."""

    __slots__ = ("content_type", "data", "headers", "status_code")

    def __init__(self, response: func.HttpResponse) -> None:
        """Adapt ``response``; its media type comes from ``mimetype`` when no header sets it."""
        self.status_code: int = int(response.status_code)
        header_items = list(response.headers.items())
        declared = next((v for k, v in header_items if k.lower() == "content-type"), None)
        mimetype = declared or response.mimetype or "application/octet-stream"
        self.content_type: str = mimetype.split(";", 1)[0].strip().lower()
        self.headers = Headers(header_items)
        self.data: bytes = response.get_body()
