"""The fast path in the validator: valid requests never reach openapi-core, which decides the rest.

Also what the route gets: the JSON body as its generated model (`ValidatedRequest.model`,
`model`), built from what openapi-core accepted when the fast path declined.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Annotated, Any

import pytest
from durableagent_models import Health, RunRequest
from openapi_core.validation.schemas.validators import SchemaValidator
from pydantic import BaseModel, Field

from durableagent.contract import problems
from durableagent.contract.authority import authoritative
from durableagent.contract.fast_checks import schema_check
from durableagent.contract.request_body import check_body
from durableagent.contract.routing import Body
from durableagent.contract.validate import ContractValidator, ValidatedRequest

from .helpers import JSON, adapted

RUN = "/api/agents/WeatherAgent/run"
VALID = [
    ("POST", RUN, {"message": "hi", "sessionId": "s-1", "role": "system", "enable_tool_calls": False}, JSON),
    ("POST", RUN + "?thread_id=t&wait_for_response=no", {"message": "hi", "response_schema": {"a": 1}}, JSON),
    (
        "POST",
        RUN,
        "plain text",
        {"Content-Type": "text/plain", "Idempotency-Key": "k:1.2", "Prefer": "wait=1"},
    ),
    ("GET", "/api/agents/WeatherAgent/user-123?limit=10&before=1000000000", None, None),
    ("GET", "/api/agents/WeatherAgent/user-123/turns/req-1.2", None, None),
    ("DELETE", "/api/agents/WeatherAgent/user-123", None, {"If-Match": '"7"'}),
    ("GET", "/api/docs/assets/swagger-ui.css", None, None),
]


@pytest.fixture
def authority_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every value openapi-core's schema validators are asked about, from now on."""
    calls: list[Any] = []
    original = SchemaValidator.validate

    def spy(self: SchemaValidator, value: Any) -> None:
        calls.append(value)
        original(self, value)

    monkeypatch.setattr(SchemaValidator, "validate", spy)
    return calls


@pytest.mark.parametrize(("method", "path", "body", "headers"), VALID)
def test_valid_requests_never_reach_openapi_core(
    validator: ContractValidator, authority_calls: list[Any], method: str, path: str, body: Any, headers: Any
) -> None:
    validator.validate(adapted(method, path, body, headers))
    assert authority_calls == []


def test_openapi_core_decides_every_rejection(
    validator: ContractValidator, authority_calls: list[Any]
) -> None:
    with pytest.raises(problems.InvalidRequest) as caught:
        validator.validate(adapted("POST", RUN, {"message": "hi", "sessionId": "run"}, JSON))
    assert caught.value.errors == [
        {"pointer": "/sessionId", "message": "'run' should not be valid under {'enum': ['run', 'ag-ui']}"}
    ]
    assert authority_calls == [{"message": "hi", "sessionId": "run"}]


def test_what_openapi_core_accepts_is_accepted_when_the_fast_path_declines(
    authority_calls: list[Any],
) -> None:
    validator = ContractValidator()
    operation = next(
        op for r in validator._routes for op in r.operations.values() if op.operation_id == "runAgent"
    )
    bodies: dict[str, Body] = operation.bodies  # type: ignore[assignment]  # a plain dict, patched here
    bodies["application/json"] = dataclasses.replace(bodies["application/json"], fast=lambda _: False)
    result = validator.validate(adapted("POST", RUN, {"message": "hi", "sessionId": "s"}, JSON))
    assert authority_calls == [{"message": "hi", "sessionId": "s"}]
    assert isinstance(result.model, RunRequest)
    assert result.model.sessionId.root == "s"  # type: ignore[union-attr]


def test_the_route_gets_the_body_as_its_generated_model(validator: ContractValidator) -> None:
    body = {"message": "hi", "sessionId": "user-1", "response_schema": {"type": "object"}}
    result = validator.validate(adapted("POST", RUN, body, JSON))
    request = result.model
    assert isinstance(request, RunRequest)
    assert not isinstance(request, Health)
    assert (request.message, request.role, request.enable_tool_calls) == ("hi", "user", True)
    assert request.model_dump(exclude_unset=True) == body == result.body


@pytest.mark.parametrize(
    ("method", "body", "headers"),
    [("POST", "plain text", {"Content-Type": "text/plain"}), ("GET", None, None)],
)
def test_text_and_bodiless_requests_have_no_model(
    validator: ContractValidator, method: str, body: Any, headers: Any
) -> None:
    path = RUN if method == "POST" else "/api/health"
    result = validator.validate(adapted(method, path, body, headers))
    assert result.model is None


def test_a_spec_with_another_schema_gets_no_model() -> None:
    validator = ContractValidator()
    spec = {**validator.spec, "components": {**validator.spec["components"]}}
    schemas = dict(spec["components"]["schemas"])
    schemas["RunRequest"] = {**schemas["RunRequest"], "additionalProperties": True}
    spec["components"] = {**spec["components"], "schemas": schemas}
    other = ContractValidator(spec=spec)
    result = other.validate(adapted("POST", RUN, {"message": "hi", "extra": 1}, JSON))
    assert (result.body, result.model) == ({"message": "hi", "extra": 1}, None)


class Count(BaseModel):
    n: int


class Negative(BaseModel):
    n: Annotated[int, Field(lt=0)]


COUNT_SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def test_a_body_strict_pydantic_refuses_but_the_schema_allows_is_parsed_lax() -> None:
    body = Body("application/json", True, schema_check(COUNT_SCHEMA), authoritative(COUNT_SCHEMA), Count)
    assert check_body(body, {"n": 1.0}) == Count(n=1)  # JSON Schema: 1.0 is an integer
    with pytest.raises(problems.InvalidRequest):
        check_body(body, {"n": "1"})


def test_a_model_stricter_than_the_contract_is_constructed_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = Body("application/json", True, schema_check(COUNT_SCHEMA), authoritative(COUNT_SCHEMA), Negative)
    with caplog.at_level(logging.WARNING, logger="durableagent.contract.request_body"):
        model = check_body(body, {"n": 5, "secret": "prompt text"})
    assert isinstance(model, Negative)
    assert model.n == 5
    assert [r.getMessage() for r in caplog.records] == [
        "openapi-core accepted a body that the generated model Negative refuses"
    ]


def test_validated_request_interface() -> None:
    fields = [(f.name, f.default) for f in dataclasses.fields(ValidatedRequest)]
    assert [name for name, _ in fields] == [
        "operation_id", "path", "query", "headers", "body", "media_type", "model"
    ]  # fmt: skip
    request = ValidatedRequest("runAgent", model=RunRequest(message="m"))
    assert isinstance(request.model, RunRequest)
    assert request.model.message == "m"
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.model = None  # type: ignore[misc]
