"""The server reads openapi.yaml's ``pattern``s as ECMA-262 regexes, like clients and Schemathesis.

Why: Schemathesis (seed 2) sent a ``text/plain`` message ``"\\x1f"``; the spec's ``pattern: "\\\\S"``
accepts it in every ECMA-262 engine, but Python's ``\\s`` counts ``\\x1c``-``\\x1f`` as white space,
so the server answered 400 to a schema-valid request. The reverse held for ``"\\ufeff"`` (white
space in ECMA-262, not in Python): a blank message was accepted.
"""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from durableagent.contract.problems import InvalidRequest
from durableagent.contract.schemas import strict_regex
from durableagent.contract.validate import ContractValidator
from durableagent.http.edge import AzureOpenAPIRequest

# (text, whether it matches \S in ECMA-262)
NOT_BLANK = [
    ("\x1f", True),
    ("\x1c", True),
    ("\x85", True),
    ("x", True),
    (" \t\n", False),
    ("\ufeff", False),
    ("\xa0\u3000\u2028", False),
]


@pytest.mark.parametrize(("text", "matches"), NOT_BLANK)
def test_non_space_class_is_ecma(text: str, matches: bool) -> None:
    assert (strict_regex("\\S").search(text) is not None) is matches


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^\\d+$", "\u0663", False),
        ("^\\d+$", "12", True),
        ("^\\w$", "\xe9", False),
        ("[\\s]", "\ufeff", True),
        ("^[A-Za-z0-9_-]{1,128}$", "abc\n", False),
        ("a\\\\s", "a\\s", True),
        ("[\\]\\s]", "]", True),
    ],
)
def test_other_escapes_are_ecma(pattern: str, text: str, matches: bool) -> None:
    assert (strict_regex(pattern).search(text) is not None) is matches


@pytest.mark.parametrize(("text", "matches"), NOT_BLANK)
def test_run_accepts_exactly_the_messages_the_spec_allows(text: str, matches: bool) -> None:
    validator = ContractValidator()
    for body, content_type in (
        (text.encode(), "text/plain"),
        (json.dumps({"message": text}).encode(), "application/json"),
    ):
        request = func.HttpRequest(
            "POST",
            "http://localhost:7071/api/agents/WeatherAgent/run",
            headers={"Content-Type": content_type},
            body=body,
        )
        if matches:
            validator.validate(AzureOpenAPIRequest(request))
        else:
            with pytest.raises(InvalidRequest):
                validator.validate(AzureOpenAPIRequest(request))
