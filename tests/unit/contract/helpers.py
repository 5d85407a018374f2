"""Builders shared by the contract tests: real `azure.functions` requests, adapted for validation."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func

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
