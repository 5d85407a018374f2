"""Building the app's HTTP responses: JSON, text, problems. One place, so every route answers alike."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import azure.functions as func

from durableagent.contract.problems import Problem, render


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> func.HttpResponse:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return func.HttpResponse(
        payload, status_code=status, headers=dict(headers or {}), mimetype="application/json", charset="utf-8"
    )


def text_response(
    text: str, status: int = 200, headers: Mapping[str, str] | None = None, mimetype: str = "text/plain"
) -> func.HttpResponse:
    return func.HttpResponse(
        text.encode("utf-8"),
        status_code=status,
        headers=dict(headers or {}),
        mimetype=mimetype,
        charset="utf-8",
    )


def bytes_response(body: bytes, mimetype: str, headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(body, status_code=200, headers=dict(headers or {}), mimetype=mimetype)


def problem_response(problem: Problem, instance: str | None = None, **extensions: Any) -> func.HttpResponse:
    """Render ``problem`` as application/problem+json (extension members added when valid)."""
    for key, value in extensions.items():
        if value is not None:
            problem.extensions.setdefault(key, value)
    status, headers, body = render(problem, instance)
    mimetype = headers.pop("Content-Type")
    return func.HttpResponse(body, status_code=status, headers=headers, mimetype=mimetype, charset="utf-8")
