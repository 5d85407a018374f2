"""Adapters from azure.functions HTTP objects to openapi-core's Request/Response protocols.

Why this module exists: openapi-core has no Azure Functions integration, and the contract layer
(`durableagent.contract`) must not import azure.functions. These two small classes are the only
place where a `func.HttpRequest` / `func.HttpResponse` is read for validation.

Invariants:
* `path` is the URL path exactly as received (still percent-encoded, route prefix included); the
  validator owns the route prefix and decodes path variables one by one, so `a%2Fb` stays one
  segment instead of becoming two.
* Query parameters keep every value (`?a=1&a=2`) from the URL; `req.params` fills in names the URL
  lacks (tests often build requests with `params=` and a bare URL).
* Headers stay the request's own case-insensitive mapping (no copy).
* `content_type` is lower-case; `func.HttpResponse(mimetype=...)` keeps its media type outside
  `.headers`, so the response adapter reads `mimetype`.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.http import parse_cookie

__all__ = ["AzureOpenAPIRequest", "AzureOpenAPIResponse"]

_DEFAULT_HOST = "http://localhost"


class AzureOpenAPIRequest:
    """A `func.HttpRequest` seen through openapi-core's `Request` protocol."""

    __slots__ = ("body", "content_type", "host_url", "method", "parameters", "path", "request")

    def __init__(self, request: func.HttpRequest) -> None:
        self.request = request
        parts = urlsplit(request.url)
        self.host_url: str = f"{parts.scheme}://{parts.netloc}" if parts.netloc else _DEFAULT_HOST
        self.path: str = parts.path or "/"
        self.method: str = request.method.lower()
        headers: Mapping[str, str] = request.headers
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        names = {name for name, _ in pairs}
        pairs.extend((k, v) for k, v in request.params.items() if k not in names)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(pairs),
            header=headers,  # case-insensitive already; werkzeug Headers would raise on a "\n"
            cookie=parse_cookie(headers.get("cookie", "")),
            path={},
        )
        self.content_type: str = (headers.get("content-type") or "").strip().lower()
        self.body: bytes = request.get_body() or b""


class AzureOpenAPIResponse:
    """A `func.HttpResponse` seen through openapi-core's `Response` protocol (tests only)."""

    __slots__ = ("content_type", "data", "headers", "status_code")

    def __init__(self, response: func.HttpResponse) -> None:
        self.status_code: int = int(response.status_code)
        header_items = list(response.headers.items())
        declared = next((v for k, v in header_items if k.lower() == "content-type"), None)
        mimetype = declared or response.mimetype or "application/octet-stream"
        self.content_type: str = mimetype.split(";", 1)[0].strip().lower()
        self.headers = Headers(header_items)
        self.data: bytes = response.get_body()
