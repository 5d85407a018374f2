"""Schemathesis hooks for the contract fuzz run (loaded through ``hooks`` in schemathesis.toml).

Why this module exists: openapi.yaml states three rules of ``runAgent`` in prose, because JSON
Schema cannot relate one field to another (let alone a body field to a query parameter), and the
draft 2020-12 metaschema is far larger than the rest of the contract:

* the session id may be given under four names, in the body or the query (``sessionId``,
  ``sessionKey``, ``session_id``, ``thread_id``); values that disagree are a 400;
* ``response_schema`` and its alias ``response_format`` must not disagree (400);
* ``response_schema`` must be a JSON Schema (draft 2020-12), where the spec's ``JsonSchemaObject``
  only says "an object" (400 ``invalid-response-schema``).

A *positive* case that breaks one of them is not a valid request, so ``positive_data_acceptance``
would flag the correct 400 as "schema-valid request rejected". For positive cases only,
``before_call`` (just before the request is sent) makes the aliases agree, the first value winning,
and replaces a generated ``response_schema`` that the metaschema rejects (checked with
``jsonschema``, not with durableagent's own code) by ``{"type": "object"}``. Negative cases are left
alone.

``listSessions``' ``cursor`` must be a ``next_cursor`` the listing issued (state the generator
cannot know, like an ``If-Match``): positive cases are sent without a generated one (a foreign
cursor is a documented 400, covered by tests/integration/local/test_session_lifecycle.py).

``filter_failure`` drops one false positive of Schemathesis itself (see its docstring), and the
answers of the routes that a reserved session id (``run``, ``sessions``) reaches instead. The test
prints how many failures it dropped.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote

import schemathesis
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase

SESSION_ALIASES = ("sessionId", "sessionKey", "session_id", "thread_id")
RUN_PATH = "/agents/{agentName}/run"
SESSIONS_PATH = "/agents/{agentName}/sessions"
SESSION_PATH = "/agents/{agentName}/{sessionId}"
RESERVED_SESSION_IDS = frozenset({"run", "ag-ui", "sessions"})
DROPPED_LOG = "SCHEMATHESIS_DROPPED_LOG"  # where filter_failure lists what it dropped (the test sets it)


def _is_positive_run(case: Any) -> bool:
    meta = case.meta
    return (
        case.operation.path == RUN_PATH
        and case.method.upper() == "POST"
        and meta is not None
        and meta.generation.mode == GenerationMode.POSITIVE
    )


def _align_sessions(case: Any) -> None:
    body = case.body if isinstance(case.body, dict) else None
    query = case.query if isinstance(case.query, dict) else None
    places = [p for p in (body, query) if p is not None]
    values = [p[name] for p in places for name in SESSION_ALIASES if name in p]
    if len(set(map(str, values))) <= 1:
        return
    first = values[0]
    if body is not None:
        case.body = {**body, **{n: first for n in SESSION_ALIASES if n in body}}
    if query is not None:
        case.query = {**query, **{n: first for n in SESSION_ALIASES if n in query}}


def _is_json_schema(value: Any) -> bool:
    try:
        Draft202012Validator.check_schema(value)
    except SchemaError:
        return False
    return True


def _align_schemas(case: Any) -> None:
    body = case.body
    if not isinstance(body, dict):
        return
    fields = [name for name in ("response_schema", "response_format") if name in body]
    if not fields:
        return
    schema = body[fields[0]]
    if not _is_json_schema(schema):
        schema = {"type": "object"}
    case.body = {**body, **{name: schema for name in fields}}


def _drop_foreign_cursor(case: Any) -> None:
    """A listing ``cursor`` must be one the listing issued (state, like an ETag): a generated one is not."""
    meta = case.meta
    positive = meta is not None and meta.generation.mode == GenerationMode.POSITIVE
    if positive and case.operation.path == SESSIONS_PATH and isinstance(case.query, dict):
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """Runs in every phase (``map_case`` does not reach the examples phase), just before sending."""
    if _is_positive_run(case):
        _align_sessions(case)
        _align_schemas(case)
    _drop_foreign_cursor(case)


def _decoded_path_is_valid(case: Any) -> bool:
    """Whether the case's path parameters, percent-decoded as the server reads them, match the spec."""
    container = case.operation.get_parameter_set(ParameterLocation.PATH)
    if not container or not isinstance(case.path_parameters, dict):
        return False
    decoded = {k: unquote(v) if isinstance(v, str) else v for k, v in case.path_parameters.items()}
    return bool(container.get_strict_validator().is_valid(decoded))


def _routed_elsewhere(case: Any) -> bool:
    """A session id that is a reserved path word (``run``, ``sessions``, in any case) is another route.

    ``GET /agents/{agentName}/sessions`` is the listing (literal segments win over parameters, on
    Azure as on the local host), so its 200 is not ``getConversation`` accepting a bad id.
    """
    session = case.path_parameters.get("sessionId") if isinstance(case.path_parameters, dict) else None
    return (
        case.operation.path.startswith(SESSION_PATH)
        and isinstance(session, str)
        and unquote(session).lower() in RESERVED_SESSION_IDS
    )


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure except the reserved ids' other routes and a false positive of Schemathesis 4.32.

    A link that copies an id such as ``4:6fQau-ImuU`` (``x-ms-correlation-id``) into a path
    parameter stores it percent-encoded (``4%3A6fQau-ImuU``), then validates the *encoded* text
    against the parameter's pattern, labels the step "negative" and reports the server's correct 200
    as "schema-violating request accepted". Dropped only when nothing but the path is "negative" and
    the decoded values are valid; a path that is invalid once decoded still fails the run.
    """
    meta = case.meta
    false_positive = (
        isinstance(failure, AcceptedNegativeData)
        and meta is not None
        and meta.phase.name == TestPhase.STATEFUL
        and meta.is_negative_at(ParameterLocation.PATH)
        and not any(
            meta.is_negative_at(loc)
            for loc in (ParameterLocation.QUERY, ParameterLocation.HEADER, ParameterLocation.BODY)
        )
        and _decoded_path_is_valid(case)
    )
    false_positive = false_positive or _routed_elsewhere(case)
    if false_positive and os.environ.get(DROPPED_LOG):
        with open(os.environ[DROPPED_LOG], "a", encoding="utf-8") as log:
            log.write(f"{case.id} {case.method} {case.operation.path} {case.path_parameters}\n")
    return not false_positive
