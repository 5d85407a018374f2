"""The Problem tree: every class renders application/problem+json that matches the spec."""

from __future__ import annotations

import inspect
import json

import azure.functions as func
import pytest
from openapi_core import OpenAPI
from openapi_core.validation.response.exceptions import DataValidationError

from durableagent.contract import problem_base, problems
from durableagent.contract.problems import Problem, from_record, render
from durableagent.contract.spec import spec_dict
from durableagent.contract.validate import ContractValidator
from tests.unit.contract.helpers import AzureOpenAPIResponse

from .helpers import JSON, RUN_URL, adapted

EXPECTED = {
    "InvalidRequest": (400, "invalid-request"),
    "InvalidJson": (400, "invalid-json"),
    "ConflictingSessionIds": (400, "conflicting-session-ids"),
    "InvalidResponseSchema": (400, "invalid-response-schema"),
    "UpstreamRejected": (400, "upstream-rejected"),
    "Unauthorized": (401, "unauthorized"),
    "RoleNotAllowed": (403, "role-not-allowed"),
    "NotFound": (404, "not-found"),
    "AgentNotFound": (404, "agent-not-found"),
    "SessionNotFound": (404, "session-not-found"),
    "TurnNotFound": (404, "turn-not-found"),
    "MethodNotAllowed": (405, "method-not-allowed"),
    "InvalidLastEventId": (400, "invalid-last-event-id"),
    "NotAcceptable": (406, "not-acceptable"),
    "MalformedRequest": (400, "malformed-request"),
    "RequestTimeout": (408, "request-timeout"),
    "PreconditionFailed": (412, "precondition-failed"),
    "MisdirectedRequest": (421, "misdirected-request"),
    "PayloadTooLarge": (413, "payload-too-large"),
    "UnsupportedMediaType": (415, "unsupported-media-type"),
    "HeadersTooLarge": (431, "headers-too-large"),
    "IdempotencyKeyReused": (422, "idempotency-key-reused"),
    "StructuredOutputInvalid": (422, "structured-output-invalid"),
    "InternalError": (500, "internal-error"),
    "AgentFailed": (500, "agent-failed"),
    "InvocationFailed": (500, "invocation-failed"),
    "TurnPoisoned": (500, "turn-poisoned"),
    "UnsupportedStateVersion": (500, "unsupported-state-version"),
    "UpstreamUnavailable": (503, "upstream-unavailable"),
    "StoreUnavailable": (503, "store-unavailable"),
    "ServerBusy": (503, "server-busy"),
    "TooManyTurns": (429, "too-many-turns"),
    "UpstreamTimeout": (504, "upstream-timeout"),
}
CLASSES = [
    c for _, c in inspect.getmembers(problems, inspect.isclass) if issubclass(c, Problem) and c is not Problem
]


def test_the_tree_is_exactly_the_documented_one() -> None:
    assert {c.__name__: (c.status, c.slug) for c in CLASSES} == EXPECTED
    assert all(c.title and c.title[0].isupper() for c in CLASSES)


def test_titles_are_stable() -> None:
    # Titles are part of the contract: changing one is a breaking change, so it must be deliberate.
    assert problems.InvalidRequest.title == "The request does not match the API contract"
    assert problems.NotFound.title == "Not found"
    assert problems.MethodNotAllowed.title == "Method not allowed"
    assert problems.UpstreamTimeout.title == "The model service did not answer in time"


def response_for(problem: Problem) -> func.HttpResponse:
    status, headers, body = render(problem, instance="/api/agents/WeatherAgent/run")
    content_type = headers.pop("Content-Type")
    return func.HttpResponse(body, status_code=status, headers=headers, mimetype=content_type)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_problem_renders_and_matches_the_spec(cls: type[Problem], validator: ContractValidator) -> None:
    problem = cls(
        "Caller-helpful text.",
        errors=[{"pointer": "/message", "message": "is required"}],
        retry_after=3 if cls.status in (409, 429, 503) else None,
        correlationId="3f2c1b0a9e8d",
        sessionId="user-123",
    )
    status, headers, body = render(problem)
    doc = json.loads(body)
    assert status == cls.status == doc["status"]
    assert headers["Content-Type"] == "application/problem+json"
    assert doc["type"] == f"https://durableagent.dev/problems/{cls.slug}"
    assert doc["title"] == cls.title
    assert doc["correlationId"] == "3f2c1b0a9e8d"
    request = adapted("POST", "/api/agents/WeatherAgent/run", {"message": "hi"})
    validator.validate_response(request, AzureOpenAPIResponse(response_for(problem)))


def test_problem_json_needs_the_registered_deserializer(validator: ContractValidator) -> None:
    """Pitfall: plain openapi-core does not treat application/problem+json as JSON."""
    request = adapted("POST", "/api/agents/WeatherAgent/run", {"message": "hi"})
    response = AzureOpenAPIResponse(response_for(problems.UpstreamUnavailable(retry_after=1)))
    with pytest.raises(DataValidationError):
        OpenAPI.from_dict(spec_dict()).validate_response(request, response)
    validator.validate_response(request, response)


def test_subclass_without_its_own_entry_renders_as_its_parent() -> None:
    class QuotaExceeded(problems.UpstreamUnavailable):
        pass

    doc = json.loads(render(QuotaExceeded())[2])
    assert (doc["status"], doc["type"]) == (503, "https://durableagent.dev/problems/upstream-unavailable")


def test_headers_retry_after_and_allow() -> None:
    _, headers, _ = render(problems.UpstreamUnavailable(retry_after=7))
    assert headers["Retry-After"] == "7"
    _, headers, _ = render(problems.MethodNotAllowed(allow=["post", "GET", "get"]))
    assert headers["Allow"] == "GET, POST"
    _, headers, _ = render(problems.Unauthorized(headers={"WWW-Authenticate": 'FunctionKey realm="api"'}))
    assert headers["WWW-Authenticate"] == 'FunctionKey realm="api"'


def test_bad_identifiers_are_never_reflected() -> None:
    doc = json.loads(render(problems.SessionNotFound(sessionId="a@b\n", correlationId="x" * 200))[2])
    assert "sessionId" not in doc
    assert "correlationId" not in doc


def test_extensions_cannot_shadow_standard_members() -> None:
    with pytest.raises(ValueError, match="shadow"):
        problems.InvalidRequest(status=200)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_record_round_trip(cls: type[Problem]) -> None:
    original = cls("Stored detail.", retry_after=2)
    rebuilt = from_record(json.loads(json.dumps(original.to_record())))
    assert type(rebuilt) is cls
    assert rebuilt.to_dict() == original.to_dict()
    assert rebuilt.headers.get("Retry-After") == "2"


def test_record_by_slug_and_unknown_slugs() -> None:
    assert isinstance(from_record({"slug": "upstream-timeout", "status": 504}), problems.UpstreamTimeout)
    generic = from_record(
        {"type": "https://example.com/quota", "title": "Quota", "status": 402, "detail": "d"}
    )
    assert type(generic) is Problem
    assert generic.to_dict() == {
        "type": "https://example.com/quota",
        "title": "Quota",
        "status": 402,
        "detail": "d",
    }
    odd = from_record({"type": "https://durableagent.dev/problems/gone-fishing", "status": 999})
    assert (odd.status, odd.type_uri) == (500, "https://durableagent.dev/problems/gone-fishing")
    assert type(from_record({})) is problems.InternalError
    assert type(from_record({"status": 500})) is problems.InternalError
    busy = from_record({"status": 503, "retry_after": 4}).to_dict()
    assert busy == {"type": "about:blank", "title": "Service Unavailable", "status": 503}
    assert from_record({"status": 599}).title == "Internal server error"


def test_request_validation_problem_matches_the_spec(validator: ContractValidator) -> None:
    request = adapted("POST", "/api/agents/WeatherAgent/run", b'{"sessionId": "x"}', JSON)
    with pytest.raises(problems.InvalidRequest) as caught:
        validator.validate(request)
    response = AzureOpenAPIResponse(response_for(caught.value))
    validator.validate_response(request, response)
    assert RUN_URL.endswith(request.path)


def test_identifier_patterns_match_the_spec() -> None:
    schemas = spec_dict()["components"]["schemas"]
    for name, pattern in problem_base._ID_PATTERNS.items():
        spec_pattern = schemas["SessionId" if name == "sessionId" else "CorrelationId"]["pattern"]
        assert f"^{pattern.pattern}$" == spec_pattern
