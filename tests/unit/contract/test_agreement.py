"""Whole requests around the edges: ContractValidator answers what plain openapi-core answers.

`reference_validate` is openapi-core's own `validate_request` (same strict patterns); it is the
oracle. Bodies, path segments, query values and headers come from `edges`; what `limits` checks
first (sizes, response schemas) is kept out, so any difference is a contract disagreement.

Where the validator is stricter than openapi-core on purpose, only soundness is asserted (what
it accepts, openapi-core accepts): integers in the query must be plain decimal (openapi-core's
caster is Python's `int()`, which takes `+1`, `1_0`, ` 1`, fullwidth digits), and a `.`/`..`
path segment is a 400 invalid identifier where openapi-core's path finder answers 404.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from durableagent.contract import problems
from durableagent.contract.validate import ContractValidator

from .edges import EDGE_STRINGS, identifiers, json_bytes, messages, query_values, run_bodies
from .helpers import JSON, adapted

AGREE = settings(
    max_examples=250,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def outcome(validator: ContractValidator, method: str, path: str, body: Any, headers: Any) -> tuple[int, str]:
    try:
        validator.validate(adapted(method, path, body, headers))
    except problems.Problem as problem:
        return problem.status, problem.headers.get("Allow", "")
    return 200, ""


def reference(
    validator: ContractValidator, method: str, path: str, body: Any, headers: Any
) -> tuple[int, str]:
    try:
        validator.reference_validate(adapted(method, path, body, headers))
    except problems.Problem as problem:
        return problem.status, problem.headers.get("Allow", "")
    return 200, ""


def agree(
    validator: ContractValidator, method: str, path: str, body: Any = None, headers: Any = None
) -> None:
    ours = outcome(validator, method, path, body, headers)
    assert ours == reference(validator, method, path, body, headers), (method, path, body, headers)


def sound(validator: ContractValidator, method: str, path: str) -> None:
    if outcome(validator, method, path, None, None)[0] == 200:
        assert reference(validator, method, path, None, None)[0] == 200, path


PLAIN_INTEGER = re.compile(r"-?[0-9]{1,18}")


@AGREE
@given(body=run_bodies)
def test_run_bodies(validator: ContractValidator, body: dict[str, Any]) -> None:
    agree(validator, "POST", "/api/agents/WeatherAgent/run", json_bytes(body), JSON)


@AGREE
@given(text=messages)
def test_text_bodies(validator: ContractValidator, text: str) -> None:
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    agree(validator, "POST", "/api/agents/WeatherAgent/run", text.encode(), headers)


# openapi-core checks path parameters still percent-encoded (`%2D` fails a pattern that `-`
# passes); the validator decodes them first. So only what must be encoded is.
segments = identifiers.map(lambda s: quote(s, safe=":"))


@AGREE
@given(agent=segments, session=segments, turn=segments, which=st.sampled_from(["conversation", "turn"]))
def test_path_segments(validator: ContractValidator, agent: str, session: str, turn: str, which: str) -> None:
    path = f"/api/agents/{agent}/{session}" + (f"/turns/{turn}" if which == "turn" else "")
    if {agent, session, turn} & {".", ".."}:
        sound(validator, "GET", path)
    else:
        agree(validator, "GET", path)


@AGREE
@given(
    name=st.sampled_from(["limit", "before"]),
    value=query_values,
    session_name=st.sampled_from(["sessionId", "sessionKey", "session_id", "thread_id", "wait_for_response"]),
    session=identifiers,
)
def test_query_values(
    validator: ContractValidator, name: str, value: str, session_name: str, session: str
) -> None:
    conversation = f"/api/agents/WeatherAgent/user-123?{name}={quote(value, safe='')}"
    if PLAIN_INTEGER.fullmatch(value):
        agree(validator, "GET", conversation)
    else:
        sound(validator, "GET", conversation)
    if session != "":
        run_query = f"/api/agents/WeatherAgent/run?{session_name}={quote(session, safe='')}"
        agree(validator, "POST", run_query, json_bytes({"message": "hi"}), JSON)


header_values = identifiers.filter(lambda s: not any(c in s for c in "\r\n\x00"))


@AGREE
@given(
    name=st.sampled_from(["Idempotency-Key", "Prefer", "x-ms-wait-for-response", "If-Match"]),
    value=header_values | st.sampled_from(["true", "FALSE", "respond-async", '"7"', "x" * 257, "x" * 301]),
)
def test_header_values(validator: ContractValidator, name: str, value: str) -> None:
    agree(
        validator,
        "POST",
        "/api/agents/WeatherAgent/run",
        json_bytes({"message": "hi"}),
        {**JSON, name: value},
    )


@pytest.mark.parametrize("text", [s for s in EDGE_STRINGS if s])
def test_every_edge_string_as_message_and_session_id(validator: ContractValidator, text: str) -> None:
    run = "/api/agents/WeatherAgent/run"
    agree(validator, "POST", run, json_bytes({"message": text}), JSON)
    agree(validator, "POST", run, text.encode(), {"Content-Type": "text/plain"})
    agree(validator, "POST", run, json_bytes({"message": "hi", "sessionId": text}), JSON)
    path = f"/api/agents/WeatherAgent/{quote(text, safe=':')}"
    (sound if text in (".", "..") else agree)(validator, "GET", path)
