"""ContractValidator: the 404/405/413/415/400 mapping, strict identifiers, and agreement with openapi-core."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from durableagent_models import RunRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from durableagent.contract import problems
from durableagent.contract.validate import ContractValidator, ValidatedRequest

from .edges import scalars as edge_scalars
from .helpers import JSON, adapted

RUN = "/api/agents/WeatherAgent/run"
CONVERSATION = "/api/agents/WeatherAgent/user-123"
TURN = "/api/agents/WeatherAgent/user-123/turns/req-1"
BAD_IDS = [
    "abc%0A",
    "abc%0D",
    "a%00b",
    "a%40b",
    "a@b",
    "a%2Fb",
    "..",
    "a.b",
    "%C3%A9",
    "%FF",
    "a%20b",
    "a" * 129,
]


def check(validator: ContractValidator, method: str, path: str, body: Any = None, headers: Any = None) -> Any:
    return validator.validate(adapted(method, path, body, headers))


def problem_of(
    validator: ContractValidator, method: str, path: str, body: Any = None, headers: Any = None
) -> Any:
    with pytest.raises(problems.Problem) as caught:
        check(validator, method, path, body, headers)
    return caught.value


def test_run_request_json(validator: ContractValidator) -> None:
    body = {"message": "hi", "sessionId": "user-123", "response_schema": {"type": "object"}}
    headers = {**JSON, "Idempotency-Key": "req-1", "X-Ms-Wait-For-Response": "false", "Prefer": "wait=5"}
    result = check(validator, "POST", RUN + "?wait_for_response=true&thread_id=t-1", body, headers)
    assert result == ValidatedRequest(
        operation_id="runAgent",
        path={"agentName": "WeatherAgent"},
        query={"wait_for_response": "true", "thread_id": "t-1"},
        headers={"idempotency-key": "req-1", "x-ms-wait-for-response": "false", "prefer": "wait=5"},
        body=body,
        media_type="application/json",
        model=RunRequest.model_validate(body, strict=True),
    )


def test_run_request_text(validator: ContractValidator) -> None:
    result = check(validator, "POST", RUN, "Hello there", {"Content-Type": "Text/Plain; charset=UTF-8"})
    assert (result.body, result.media_type) == ("Hello there", "text/plain")
    assert problem_of(validator, "POST", RUN, "   ", {"Content-Type": "text/plain"}).status == 400


def test_other_operations(validator: ContractValidator) -> None:
    got = check(validator, "GET", CONVERSATION + "?limit=10&before=3")
    assert (got.operation_id, got.path, got.query) == (
        "getConversation",
        {"agentName": "WeatherAgent", "sessionId": "user-123"},
        {"limit": 10, "before": 3},
    )
    assert check(validator, "DELETE", CONVERSATION, headers={"If-Match": '"7"'}).headers == {
        "if-match": '"7"'
    }
    assert check(validator, "GET", TURN).path["correlationId"] == "req-1"
    assert check(validator, "GET", "/api/health").operation_id == "getHealth"
    assert check(validator, "GET", "/api/openapi.json").operation_id == "getOpenApiJson"
    assert check(validator, "GET", "/api/docs/assets/swagger-ui.css").path == {"assetName": "swagger-ui.css"}
    # openapi-core reads GET .../run as the conversation of session "run"; the spec reserves that id.
    with pytest.raises(problems.InvalidRequest):
        check(validator, "GET", "/api/agents/WeatherAgent/run")


@pytest.mark.parametrize(
    "path",
    [
        "/api/nope",
        "/api/health/",
        "/v1/health",
        "/api",
        "/health",
        "/api/agents/a/b/run",
        "/apihealth",
        "/api/agents//x/y",
    ],
)
def test_unknown_routes_are_404(validator: ContractValidator, path: str) -> None:
    problem = problem_of(validator, "GET", path)
    assert (type(problem), problem.status) == (problems.NotFound, 404)


@pytest.mark.parametrize(
    "path", ["/API/agents/WeatherAgent/run", "/api/AGENTS/WeatherAgent/RUN", "/Api/Agents/WeatherAgent/Run"]
)
def test_literal_segments_match_in_any_case_like_the_functions_host(
    validator: ContractValidator, path: str
) -> None:
    result = check(validator, "POST", path, {"message": "hi"}, JSON)
    assert (result.operation_id, result.path) == ("runAgent", {"agentName": "WeatherAgent"})


@pytest.mark.parametrize(
    "path", ["/api/agent\u017f/WeatherAgent/run", "/\u0430pi/health", "/api/healt\u0127"]
)
def test_case_folding_is_ascii_only(validator: ContractValidator, path: str) -> None:
    problem = problem_of(validator, "POST" if path.endswith("run") else "GET", path, {"message": "hi"}, JSON)
    assert (type(problem), problem.status) == (problems.NotFound, 404)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", RUN, "DELETE, GET, POST"),
        ("POST", "/api/health", "GET"),
        ("HEAD", "/api/health", "GET"),
        ("PATCH", CONVERSATION, "DELETE, GET"),
        ("POST", TURN, "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(
    validator: ContractValidator, method: str, path: str, allow: str
) -> None:
    problem = problem_of(validator, method, path, b"{}", JSON)
    assert (problem.status, problem.headers["Allow"]) == (405, allow)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/xml",
        "application/x-www-form-urlencoded",
        "",
        "application/json; charset=latin-1",
        "multipart/form-data",
    ],
)
def test_unsupported_media_types_are_415(validator: ContractValidator, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    problem = problem_of(validator, "POST", RUN, b'{"message": "hi"}', headers)
    assert isinstance(problem, problems.UnsupportedMediaType)


@pytest.mark.parametrize(
    "content_type", ["application/json; charset", "application/json; a=b=c", "application/json;;"]
)
def test_malformed_content_type_parameters_are_not_a_crash(
    validator: ContractValidator, content_type: str
) -> None:
    """Pitfall: openapi-core splits media type parameters on '=' and raises a bare ValueError (a 500)."""
    request = adapted("POST", RUN, b'{"message": "hi"}', {"Content-Type": content_type})
    with pytest.raises(ValueError, match="unpack"):
        validator.openapi.validate_request(request)
    with contextlib.suppress(problems.UnsupportedMediaType):  # a 415 is fine; a crash is not
        assert validator.validate(request).body == {"message": "hi"}


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        (b"", [""]),
        ({"sessionId": "abc"}, ["/message"]),
        ({"message": "hi", "role": "admin"}, ["/role"]),
        ({"message": "hi", "x": 1, "y": 2}, ["/x", "/y"]),
        ({"message": "hi", "sessionId": None}, ["/sessionId"]),
        ({"message": "hi", "enable_tool_calls": "yes"}, ["/enable_tool_calls"]),
        ({"message": ""}, ["/message"]),
        ({"message": " \t\n"}, ["/message"]),
        ({"message": "hi", "response_schema": {}}, ["/response_schema"]),
        (["message"], [""]),
    ],
)
def test_invalid_bodies_are_400_with_pointers(
    validator: ContractValidator, body: Any, pointers: list[str]
) -> None:
    problem = problem_of(validator, "POST", RUN, body, JSON)
    assert type(problem) is problems.InvalidRequest
    assert sorted({e["pointer"] for e in problem.errors}) == pointers


def test_missing_required_property_names_the_field(validator: ContractValidator) -> None:
    problem = problem_of(validator, "POST", RUN, {"sessionId": "abc"}, JSON)
    assert problem.errors == [{"pointer": "/message", "message": "'message' is a required property"}]
    assert "message" in (problem.detail or "")


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(
    "template",
    [
        "/api/agents/{}/run",
        "/api/agents/{}/user-123",
        "/api/agents/WeatherAgent/{}",
        "/api/agents/{}/user-123/turns/req-1",
        "/api/agents/WeatherAgent/{}/turns/req-1",
        "/api/agents/WeatherAgent/user-123/turns/{}",
    ],
)
def test_bad_identifiers_in_the_path(validator: ContractValidator, template: str, bad: str) -> None:
    method = "POST" if template.endswith("/run") else "GET"
    if template.endswith("turns/{}") and bad == "a.b":  # '.' is allowed inside correlation ids
        assert check(validator, method, template.format(bad)).path["correlationId"] == "a.b"
        return
    problem = problem_of(validator, method, template.format(bad), {"message": "hi"}, JSON)
    assert problem.status in (400, 404), problem.to_dict()
    if "/" not in bad and bad != "":
        assert problem.status == 400
        assert problem.errors[0]["pointer"].startswith("#/path/")


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("name", ["sessionId", "sessionKey", "session_id", "thread_id"])
def test_bad_identifiers_in_the_query(validator: ContractValidator, name: str, bad: str) -> None:
    problem = problem_of(validator, "POST", f"{RUN}?{name}={bad}", {"message": "hi"}, JSON)
    assert (problem.status, problem.errors[0]["pointer"]) == (400, f"#/query/{name}")


@pytest.mark.parametrize("bad", ["abc\n", "a\u0000b", "a@b", "a/b", "..", "a" * 129, "", "é", "abc\u200b"])
@pytest.mark.parametrize("name", ["sessionId", "sessionKey", "session_id", "thread_id"])
def test_bad_identifiers_in_the_body(validator: ContractValidator, name: str, bad: str) -> None:
    problem = problem_of(validator, "POST", RUN, {"message": "hi", name: bad}, JSON)
    assert (problem.status, problem.errors[0]["pointer"]) == (400, f"/{name}")


@pytest.mark.parametrize("bad", ["abc\n", "a b", "a@b", "x" * 129, ""])
def test_bad_idempotency_key_header(validator: ContractValidator, bad: str) -> None:
    problem = problem_of(validator, "POST", RUN, {"message": "hi"}, {**JSON, "Idempotency-Key": bad})
    assert problem.errors[0]["pointer"] == "#/header/idempotency-key"


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=0",
        "limit=1001",
        "limit=",
        "limit=1_0",
        "limit=%EF%BC%91",
        "limit=1.5",
        "before=-1",
        "limit=" + "9" * 30,
        "limit=1&limit=2",
    ],
)
def test_bad_query_values(validator: ContractValidator, query: str) -> None:
    problem = problem_of(validator, "GET", f"{CONVERSATION}?{query}")
    assert problem.status == 400
    assert problem.errors[0]["pointer"].startswith("#/query/")


def test_strict_json_and_limits_run_first(validator: ContractValidator) -> None:
    assert isinstance(
        problem_of(validator, "POST", RUN, b'{"message":"a","message":"b"}', JSON), problems.InvalidJson
    )
    assert isinstance(problem_of(validator, "POST", RUN, b"[" * 60_000, JSON), problems.InvalidJson)
    too_long = problem_of(validator, "POST", RUN, {"message": "A" * 32769}, JSON)
    assert isinstance(too_long, problems.PayloadTooLarge)
    assert isinstance(problem_of(validator, "POST", RUN, b" " * 65537, JSON), problems.PayloadTooLarge)
    remote = {"message": "m", "response_schema": {"$ref": "http://169.254.169.254/latest/meta-data/"}}
    assert isinstance(problem_of(validator, "POST", RUN, remote, JSON), problems.InvalidResponseSchema)


def test_big_free_form_objects_are_bounded_before_schema_validation(validator: ContractValidator) -> None:
    """Pitfall: openapi-core unmarshalling walks every key of a free-form object (~22 ms for 4 KB).

    The limits answer (413 or 400 invalid-response-schema) before any schema validation, which
    would answer a plain 400 invalid-request. (Its cost is measured by scripts/bench_validation.py.)
    """
    schema = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(300)}}
    problem = problem_of(validator, "POST", RUN, {"message": "m", "response_schema": schema}, JSON)
    assert isinstance(problem, problems.PayloadTooLarge | problems.InvalidResponseSchema)


def test_repeated_session_ids_in_the_query_are_rejected(validator: ContractValidator) -> None:
    problem = problem_of(validator, "POST", RUN + "?sessionId=a&sessionId=b", {"message": "hi"}, JSON)
    assert problem.errors == [{"pointer": "#/query/sessionId", "message": "must be given once"}]


def test_deprecated_parameter_does_not_warn(validator: ContractValidator) -> None:
    """openapi-core warns DeprecationWarning on each use of `thread_id` (an error under pytest's config)."""
    assert check(validator, "POST", RUN + "?thread_id=abc", {"message": "hi"}, JSON).query == {
        "thread_id": "abc"
    }


@pytest.mark.parametrize(
    ("prefix", "path"),
    [("", "/health"), ("v1/agents-api", "/v1/agents-api/health"), ("/api/", "/api/health")],
)
def test_route_prefix(prefix: str, path: str) -> None:
    validator = ContractValidator(route_prefix=prefix)
    assert validator.validate(adapted("GET", path)).operation_id == "getHealth"
    assert validator.spec["servers"][0]["url"] == "/" + prefix.strip("/")
    validator.reference_validate(adapted("GET", path))  # plain openapi-core agrees on the prefix
    assert problem_of(validator, "GET", "/other" + path).status == 404


CORPUS: list[tuple[str, str, Any, dict[str, str] | None]] = [
    ("POST", RUN, {"message": "hi"}, None),
    ("POST", RUN, {"message": "hi", "sessionId": "s-1", "response_schema": {"type": "object"}}, None),
    ("POST", RUN, "plain text", {"Content-Type": "text/plain"}),
    ("POST", RUN, {"message": "hi", "nope": 1}, None),
    ("POST", RUN, {"sessionId": "s"}, None),
    ("POST", RUN, {"message": "hi", "sessionId": "abc\n"}, None),
    ("POST", RUN, {"message": "hi", "sessionId": "run"}, None),  # the generated model accepts it
    ("POST", RUN, {"message": "\ufeff\u3000"}, None),
    ("POST", RUN, {"message": "\x85\u180e"}, None),
    ("POST", RUN, "\u2028\t", {"Content-Type": "text/plain"}),
    ("POST", RUN, {"message": "hi", "enable_tool_calls": 1}, None),
    ("POST", RUN, {"message": "hi", "wait_for_response": None}, None),
    ("POST", RUN, {"message": "hi", "role": "system", "response_format": {"k": 10**30}}, None),
    ("POST", RUN, b"", JSON),
    ("POST", RUN, b"<x/>", {"Content-Type": "text/xml"}),
    ("POST", RUN + "?sessionId=bad@id", {"message": "hi"}, None),
    ("POST", RUN + "?wait_for_response=maybe", {"message": "hi"}, None),
    ("POST", "/api/agents/abc%0A/run", {"message": "hi"}, None),
    ("PUT", RUN, {"message": "hi"}, None),
    ("GET", CONVERSATION, None, None),
    ("GET", CONVERSATION + "?limit=5000", None, None),
    ("GET", CONVERSATION + "?limit=1000&before=1000000000", None, None),
    ("GET", CONVERSATION + "?before=1000000001", None, None),
    ("GET", "/api/agents/WeatherAgent/run%0A", None, None),
    ("DELETE", CONVERSATION, None, {"If-Match": "x" * 301}),
    ("GET", TURN, None, None),
    ("GET", "/api/agents/WeatherAgent/user-123/turns/bad%20id", None, None),
    ("GET", "/api/health", None, None),
    ("POST", "/api/health", None, None),
    ("GET", "/api/nope", None, None),
]


@pytest.mark.parametrize(("method", "path", "body", "headers"), CORPUS)
def test_agrees_with_plain_openapi_core(
    validator: ContractValidator, method: str, path: str, body: Any, headers: dict[str, str] | None
) -> None:
    request = adapted(method, path, body, headers)
    try:
        validator.validate(request)
        ours: tuple[int, str] = (200, "")
    except problems.Problem as problem:
        ours = (problem.status, problem.headers.get("Allow", ""))
    try:
        validator.reference_validate(adapted(method, path, body, headers))
        reference: tuple[int, str] = (200, "")
    except problems.Problem as problem:
        reference = (problem.status, problem.headers.get("Allow", ""))
    assert ours == reference


def test_success_responses_validate(validator: ContractValidator) -> None:
    import azure.functions as func

    from tests.unit.contract.helpers import AzureOpenAPIResponse

    reply = {
        "response": {"t": 1},
        "message": "hi",
        "sessionId": "user-123",
        "status": "success",
        "message_count": 1,
    }
    response = func.HttpResponse(json.dumps(reply), status_code=200, mimetype="application/json")
    validator.validate_response(adapted("POST", RUN, {"message": "hi"}), AzureOpenAPIResponse(response))


FUZZ = settings(max_examples=300, derandomize=True, database=None, deadline=None)
url_text = st.text(alphabet="aZ09-_.~%/@?&=#:;+ \n\x00é\u200b\ufeff\u2028\x85", max_size=30)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "HEAD", "OPTIONS", "get", "BREW"]),
    path=st.sampled_from(["/api/agents/", "/api/agents/WeatherAgent/", "/api/", "/"]).flatmap(
        lambda prefix: url_text.map(lambda rest: prefix + rest)
    ),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/json; charset=x", "", "a/b;c"]
    ),
    body=st.binary(max_size=64)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8) | edge_scalars,
        lambda inner: (
            st.lists(inner) | st.dictionaries(st.sampled_from(["message", "sessionId", "role", "x"]), inner)
        ),
        max_leaves=6,
    ).map(lambda v: json.dumps({"message": v} if not isinstance(v, dict) else v).encode()),
)
def test_fuzz_only_problems_escape(
    validator: ContractValidator, method: str, path: str, content_type: str, body: bytes
) -> None:
    request = adapted(
        method, path.replace("?", "%3F").replace("#", "%23"), body, {"Content-Type": content_type}
    )
    try:
        validator.validate(request)
        status = 200
    except problems.Problem as problem:  # anything else (ValueError, RecursionError, ...) fails the test
        status = problem.status
    assert status == 200 or 400 <= status < 500
