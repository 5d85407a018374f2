"""The azure.functions adapters satisfy openapi-core's protocols (built from real SDK objects)."""

from __future__ import annotations

import json

import azure.functions as func
from openapi_core.protocols import Request, Response

from durableagent.contract.validate import ContractValidator
from durableagent.http.edge import AzureOpenAPIRequest
from tests.unit.contract.helpers import AzureOpenAPIResponse


def test_request_round_trip() -> None:
    body = json.dumps({"message": "hi"}).encode()
    req = func.HttpRequest(
        "post",
        "https://app.azurewebsites.net/api/agents/WeatherAgent/run?sessionId=a&sessionId=b&empty=&x=%2F",
        headers={
            "Content-Type": "Application/JSON; Charset=UTF-8",
            "Idempotency-Key": "k-1",
            "Cookie": "c=1; d=2",
        },
        params={"sessionId": "ignored-url-wins", "only_in_params": "p"},
        route_params={"agentName": "WeatherAgent"},
        body=body,
    )
    adapted = AzureOpenAPIRequest(req)
    assert isinstance(adapted, Request)
    assert adapted.host_url == "https://app.azurewebsites.net"
    assert adapted.path == "/api/agents/WeatherAgent/run"
    assert adapted.method == "post"
    assert adapted.content_type == "application/json; charset=utf-8"
    assert adapted.body == body
    query = adapted.parameters.query
    assert query.getlist("sessionId") == ["a", "b"]
    assert (query["empty"], query["x"], query["only_in_params"]) == ("", "/", "p")
    assert (
        adapted.parameters.header["idempotency-key"] == adapted.parameters.header["IDEMPOTENCY-KEY"] == "k-1"
    )
    assert dict(adapted.parameters.cookie) == {"c": "1", "d": "2"}
    assert adapted.parameters.path == {}


def test_request_path_stays_encoded_and_relative_urls_work() -> None:
    req = func.HttpRequest("GET", "/api/agents/a%2Fb/s%0A", headers={}, params={"limit": "3"}, body=b"")
    adapted = AzureOpenAPIRequest(req)
    assert (adapted.host_url, adapted.path, adapted.content_type, adapted.body) == (
        "http://localhost",
        "/api/agents/a%2Fb/s%0A",
        "",
        b"",
    )
    assert adapted.parameters.query["limit"] == "3"


def test_header_values_with_newlines_do_not_crash_the_adapter(validator: ContractValidator) -> None:
    req = func.HttpRequest("POST", "http://h/api/agents/a/run", headers={"Idempotency-Key": "k\n"}, body=b"x")
    assert AzureOpenAPIRequest(req).parameters.header["idempotency-key"] == "k\n"


def test_response_content_type_comes_from_mimetype() -> None:
    """Pitfall: func.HttpResponse(mimetype=...) keeps the media type out of `.headers`."""
    resp = func.HttpResponse(
        '{"a":1}', status_code=201, mimetype="application/problem+json", headers={"X-A": "1"}
    )
    assert "content-type" not in {k.lower() for k, _ in resp.headers.items()}
    adapted = AzureOpenAPIResponse(resp)
    assert isinstance(adapted, Response)
    assert (adapted.status_code, adapted.content_type, adapted.data) == (
        201,
        "application/problem+json",
        b'{"a":1}',
    )
    assert adapted.headers["x-a"] == "1"


def test_response_explicit_content_type_header_wins() -> None:
    resp = func.HttpResponse("hi", headers={"Content-Type": "Text/Plain; charset=utf-8"})
    assert AzureOpenAPIResponse(resp).content_type == "text/plain"
    assert AzureOpenAPIResponse(func.HttpResponse(b"")).content_type == "text/plain"  # the SDK's default


def test_validated_end_to_end_from_a_real_request(validator: ContractValidator) -> None:
    req = func.HttpRequest(
        "POST",
        "http://localhost:7071/api/agents/WeatherAgent/run?wait_for_response=false",
        headers={"content-type": "text/plain"},
        body=b"Hello there",
    )
    result = validator.validate(AzureOpenAPIRequest(req))
    assert (result.operation_id, result.body, result.query) == (
        "runAgent",
        "Hello there",
        {"wait_for_response": "false"},
    )
