"""The generated pydantic models follow the spec: no extra keys, no explicit null, no aliases."""

from __future__ import annotations

from typing import Any

import durableagent_models as models
import pytest
from pydantic import BaseModel, ValidationError


def run(**fields: Any) -> dict[str, Any]:
    return {"message": "hi", **fields}


def test_run_request_defaults_and_missing_sentinel() -> None:
    request = models.RunRequest.model_validate(run())
    assert request.role == "user"
    assert request.enable_tool_calls is True
    assert request.model_dump() == {"message": "hi", "role": "user", "enable_tool_calls": True}
    assert "sessionId" not in request.model_fields_set


@pytest.mark.parametrize("extra", [{"x": 1}, {"SessionId": "a"}, {"session-id": "a"}, {"tools": []}])
def test_run_request_forbids_extra_keys(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        models.RunRequest.model_validate(run(**extra))


@pytest.mark.parametrize(
    "field",
    [
        "sessionId",
        "sessionKey",
        "session_id",
        "thread_id",
        "role",
        "enable_tool_calls",
        "response_schema",
        "response_format",
        "wait_for_response",
    ],
)
def test_run_request_rejects_explicit_null_for_optional_fields(field: str) -> None:
    with pytest.raises(ValidationError):
        models.RunRequest.model_validate(run(**{field: None}))


@pytest.mark.parametrize("alias", ["sessionId", "sessionKey", "session_id", "thread_id"])
def test_every_session_alias_is_its_own_field(alias: str) -> None:
    request = models.RunRequest.model_validate_json(f'{{"message": "hi", "{alias}": "user-123"}}')
    assert getattr(request, alias).root == "user-123"


@pytest.mark.parametrize("bad", ["abc\n", "a@b", "a/b", "..", "", "a" * 129, "\u0000"])
def test_session_id_pattern_has_no_trailing_newline_hole(bad: str) -> None:
    with pytest.raises(ValidationError):
        models.RunRequest.model_validate(run(sessionId=bad))


def test_no_model_populates_by_field_name_or_renames_fields() -> None:
    for name in models.__all__:
        model = getattr(models, name)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        assert not model.model_config.get("populate_by_name"), name
        assert not model.model_config.get("validate_by_name"), name
        for field_name, info in model.model_fields.items():
            assert info.alias in (None, field_name), (name, field_name)


@pytest.mark.parametrize("response", ["text", {"location": "Paris", "t": [1, 2.5, None]}, [1, "a"], 3, None])
def test_run_result_response_accepts_any_json(response: object) -> None:
    result = models.RunResult.model_validate(
        {"response": response, "message": "m", "sessionId": "s", "status": "success", "message_count": 1}
    )
    assert result.response == response


def test_problem_model_allows_extensions() -> None:
    problem = models.Problem.model_validate(
        {"type": "https://x/y", "title": "t", "status": 503, "retryAfterHint": 5, "sessionId": "user-1"}
    )
    assert problem.model_dump(mode="json", exclude_unset=True)["retryAfterHint"] == 5


def test_response_schema_object_bounds() -> None:
    with pytest.raises(ValidationError):
        models.RunRequest.model_validate(run(response_schema={}))
    with pytest.raises(ValidationError):
        models.RunRequest.model_validate(run(response_schema="string"))
