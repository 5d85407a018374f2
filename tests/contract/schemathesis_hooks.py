"""Schemathesis hooks for the contract fuzz run (loaded through ``hooks`` in schemathesis.toml).

Why this module exists: openapi.yaml states two cross-field rules of ``runAgent`` in prose, because
JSON Schema cannot relate one field to another, let alone a body field to a query parameter:

* the session id may be given under four names, in the body or the query (``sessionId``,
  ``sessionKey``, ``session_id``, ``thread_id``); values that disagree are a 400;
* ``response_schema`` and its alias ``response_format`` must not disagree (400).

A *positive* case that breaks one of them is not a valid request, so ``positive_data_acceptance``
would flag the correct 400 as "schema-valid request rejected". For positive cases only, this hook
makes the aliases agree (the first value wins). Negative cases are left alone, and nothing is
removed: every generated field still reaches the server.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.generation import GenerationMode

SESSION_ALIASES = ("sessionId", "sessionKey", "session_id", "thread_id")
RUN_PATH = "/agents/{agentName}/run"


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


def _align_schemas(case: Any) -> None:
    body = case.body
    if isinstance(body, dict) and "response_schema" in body and "response_format" in body:
        if body["response_format"] != body["response_schema"]:
            case.body = {**body, "response_format": body["response_schema"]}


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    if _is_positive_run(case):
        _align_sessions(case)
        _align_schemas(case)
    return case
