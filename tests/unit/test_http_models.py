"""The two HTTP models' adapters without sockets: the StreamReply seam, FastAPI request/response
conversion, the annotations the worker checks, and the app option's guard rails.

Importing ``azurefunctions.extensions.http.fastapi`` switches the whole process (that is the
point of the check), so the tests that need it run in a child interpreter.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import typing
from collections.abc import AsyncIterator

import azure.functions as func
import pytest
from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from durableagent.http import http_model
from durableagent.http.fastapi_mode import classic_request, fastapi_function, fastapi_response
from durableagent.http.replies import StreamingHttpResponse, StreamReply, buffered, classic_function

pytestmark = pytest.mark.anyio


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _request(body: bytes, headers: list[tuple[bytes, bytes]], query: bytes = b"", chunk: int = 0) -> Request:
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]

    async def receive() -> dict[str, object]:
        if not pieces:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": pieces.pop(0), "more_body": bool(pieces)}

    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "https",
        "server": ("example.net", 443),
        "path": "/api/agents/A/run",
        "raw_path": b"/api/agents/A/run",
        "query_string": query,
        "headers": [(b"host", b"example.net"), *headers],
        "path_params": {"agentName": "A"},
    }
    return Request(scope, receive)


async def test_buffered_sends_the_whole_stream() -> None:
    reply = StreamReply(
        _chunks(b"id: 1\n\n", b"id: 2\n\n"), status=201, headers={"X-A": "1", "Content-Length": "9"}
    )
    whole = await buffered(reply)
    assert (whole.status_code, whole.get_body(), whole.mimetype) == (
        201,
        b"id: 1\n\nid: 2\n\n",
        "text/event-stream",
    )
    assert {k.lower(): v for k, v in whole.headers.items()} == {"x-a": "1"}


async def test_classic_function_keeps_the_signature_and_buffers() -> None:
    async def handler(req: func.HttpRequest, client: str, context: func.Context) -> StreamReply:
        return StreamReply(_chunks(b"a", b"b"))

    wrapped = classic_function(handler, live=lambda: False)
    assert list(inspect.signature(wrapped).parameters) == ["req", "client", "context"]
    result = await wrapped(func.HttpRequest("GET", "http://h/x", body=b""), "{}", None)
    assert isinstance(result, func.HttpResponse)
    assert result.get_body() == b"ab"


async def test_classic_function_streams_where_the_host_can() -> None:
    async def handler(req: func.HttpRequest) -> StreamReply:
        return StreamReply(_chunks(b"a", b"b"), headers={"Cache-Control": "no-cache"})

    result = await classic_function(handler, live=lambda: True)(
        func.HttpRequest("GET", "http://h/x", body=b"")
    )
    assert isinstance(result, StreamingHttpResponse)
    assert result.get_body() == b""  # the body goes out through body_iterator, piece by piece
    assert [chunk async for chunk in result.body_iterator] == [b"a", b"b"]
    assert (b"content-type", b"text/event-stream") in result.raw_headers


async def test_classic_request_from_a_fastapi_request() -> None:
    req = _request(b'{"message":"hi"}', [(b"x-tag", b"1"), (b"x-tag", b"2")], b"sessionId=s&a=1")
    classic = await classic_request(req, max_body_bytes=1024)
    assert classic.method == "POST"
    assert classic.url == "https://example.net/api/agents/A/run?sessionId=s&a=1"
    assert classic.headers["x-tag"] == "1,2"
    assert classic.params == {"sessionId": "s", "a": "1"}
    assert classic.route_params == {"agentName": "A"}
    assert classic.get_body() == b'{"message":"hi"}'


async def test_classic_request_names_the_url_the_client_used() -> None:
    forwarded = [(b"x-forwarded-host", b"myapp.azurewebsites.net"), (b"x-forwarded-proto", b"https")]
    req = _request(b"", forwarded)
    req.scope["server"], req.scope["scheme"] = ("127.0.0.1", 5555), "http"
    req.scope["headers"][0] = (b"host", b"127.0.0.1:5555")  # the worker's own address on Azure
    classic = await classic_request(req, max_body_bytes=10)
    assert classic.url == "https://myapp.azurewebsites.net/api/agents/A/run"


async def test_classic_request_stops_reading_past_the_limit() -> None:
    classic = await classic_request(_request(b"x" * 5000, [], chunk=64), max_body_bytes=100)
    assert len(classic.get_body()) == 128  # the chunk that crossed 100 bytes, then no more


@pytest.mark.parametrize(
    ("mimetype", "content_type"),
    [
        ("application/json", "application/json"),
        ("application/problem+json", "application/problem+json"),
        ("text/plain", "text/plain; charset=utf-8"),
    ],
)
def test_fastapi_response_content_type_as_the_classic_worker_sends_it(
    mimetype: str, content_type: str
) -> None:
    classic = func.HttpResponse(b"{}", status_code=404, headers={"Location": "/x"}, mimetype=mimetype)
    response = fastapi_response(classic)
    assert response.status_code == 404
    assert response.body == b"{}"
    assert response.headers["content-type"] == content_type
    assert response.headers["location"] == "/x"
    assert response.headers["content-length"] == "2"


def test_fastapi_response_of_a_stream_is_a_streaming_response() -> None:
    response = fastapi_response(StreamReply(_chunks(b"x"), status=200, headers={"Cache-Control": "no-cache"}))
    assert isinstance(response, StreamingResponse)
    assert response.media_type == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert "content-length" not in response.headers


async def test_a_response_in_starlettes_streaming_shape_stays_a_stream() -> None:
    class Streamed(func.HttpResponse):
        def __init__(self) -> None:
            super().__init__(b"", status_code=202, headers={"Content-Type": "text/event-stream", "X-B": "2"})
            self.body_iterator = _chunks(b"data: 1\n\n", b"data: 2\n\n")

    response = fastapi_response(Streamed())
    assert isinstance(response, StreamingResponse)
    assert (response.status_code, response.headers["x-b"]) == (202, "2")
    assert response.headers["content-type"] == "text/event-stream"
    assert [chunk async for chunk in response.body_iterator] == [b"data: 1\n\n", b"data: 2\n\n"]


def test_fastapi_functions_carry_the_annotations_the_worker_checks() -> None:
    async def agent_run(req: func.HttpRequest, client: str, context: func.Context) -> func.HttpResponse:
        return func.HttpResponse("x")

    async def health_check(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("x")

    with_client = fastapi_function(agent_run, durable_client=True, max_body_bytes=10)
    plain = fastapi_function(health_check, durable_client=False, max_body_bytes=10)
    assert with_client.__name__ == "agent_run"
    assert plain.__name__ == "health_check"
    assert typing.get_type_hints(with_client) == {
        "req": Request,
        "client": str,
        "context": func.Context,
        "return": Response,
    }
    assert typing.get_type_hints(plain) == {"req": Request, "return": Response}


def test_this_process_is_in_the_classic_model() -> None:
    assert not http_model.extension_active()
    http_model.check(False)


@pytest.mark.parametrize(("value", "enabled"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_init_indexing_setting(value: str, enabled: bool) -> None:
    assert http_model.init_indexing_enabled({"PYTHON_ENABLE_INIT_INDEXING": value}) is enabled


def _child(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", **env},
        check=False,
    )


def test_the_extension_imported_requires_the_option() -> None:
    done = _child(
        """
        import azurefunctions.extensions.http.fastapi  # a user's own FastAPI-typed function
        from durableagent import AgentFunctionApp
        try:
            AgentFunctionApp()
        except RuntimeError as exc:
            print("refused:", exc)
        app = AgentFunctionApp(http_streaming=True)
        print("streaming:", app.http_streaming)
        """,
        PYTHON_ENABLE_INIT_INDEXING="1",
    )
    assert done.returncode == 0, done.stderr
    assert "refused: azurefunctions.extensions.http.fastapi is imported" in done.stdout
    assert "http_streaming=True" in done.stdout
    assert "streaming: True" in done.stdout


def test_the_option_without_the_setting_warns() -> None:
    done = _child(
        """
        import logging
        logging.basicConfig(level=logging.WARNING)
        from durableagent import AgentFunctionApp
        from durableagent.http import http_model
        AgentFunctionApp(http_streaming=True)
        print("active:", http_model.extension_active())
        """
    )
    assert done.returncode == 0, done.stderr
    assert "active: True" in done.stdout
    assert "needs the app setting PYTHON_ENABLE_INIT_INDEXING=1" in done.stderr
