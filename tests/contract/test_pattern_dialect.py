"""The server reads openapi.yaml's ``pattern``s as ECMA-262 regexes, like clients and Schemathesis.

Why: Schemathesis (seed 2) sent a ``text/plain`` message ``"\\x1f"``; the spec's old
``pattern: "\\\\S"`` accepts it in every ECMA-262 engine, but Python's ``\\s`` counts
``\\x1c``-``\\x1f`` as white space, so the server answered 400 to a schema-valid request. The
reverse held for ``"\\ufeff"`` (white space in ECMA-262, not in Python): a blank message was
accepted. Rust's regex (pydantic's engine) has a third opinion (``\\x85`` is space, ``\\ufeff``
is not). So the message pattern now lists ECMA-262 WhiteSpace and LineTerminator explicitly, and
these tests check that every engine involved (Python ``re``, which python-jsonschema and the
authority's ``strict_regex`` use; pydantic's Rust regex in the generated model; jsonschema-rs;
and Node's ECMA-262 ``RegExp``) accepts its syntax and excludes exactly those characters, over
every code point.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Annotated

import azure.functions as func
import jsonschema_rs
import pytest
from durableagent_models import RunRequest
from pydantic import TypeAdapter, ValidationError

from durableagent.contract.authority import strict_regex
from durableagent.contract.fast_checks import portable_pattern
from durableagent.contract.problems import InvalidRequest
from durableagent.contract.spec import internal_spec
from durableagent.contract.validate import ContractValidator
from durableagent.http.edge import AzureOpenAPIRequest

SPEC = internal_spec()
MESSAGE_PATTERN: str = SPEC["components"]["schemas"]["RunRequest"]["properties"]["message"]["pattern"]
TEXT_PATTERN: str = SPEC["paths"]["/agents/{agentName}/run"]["post"]["requestBody"]["content"]["text/plain"][
    "schema"
]["pattern"]
# ECMA-262 §12.2 WhiteSpace (TAB VT FF SP NBSP ZWNBSP and Unicode Zs) and §12.3 LineTerminator.
ECMA_SPACE = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(map(chr, range(0x2000, 0x200B)))
)
CODE_POINTS = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]

# (text, whether it matches \S in ECMA-262)
NOT_BLANK = [
    ("\x1f", True),
    ("\x1c", True),
    ("\x85", True),
    ("\u180e", True),
    ("x", True),
    (" \t\n", False),
    ("\ufeff", False),
    ("\xa0\u3000\u2028", False),
]


def test_the_message_pattern_is_spelled_out_and_portable() -> None:
    assert TEXT_PATTERN == MESSAGE_PATTERN
    assert "\\s" not in MESSAGE_PATTERN.lower()
    assert MESSAGE_PATTERN.startswith("[^")
    assert MESSAGE_PATTERN.endswith("]")
    assert portable_pattern(MESSAGE_PATTERN)  # so the fast path checks it (fast_checks)


# The generated RunRequest's own `message` field (its type and constraints), validated alone.
_MESSAGE: TypeAdapter[str] = TypeAdapter(Annotated[(str, *RunRequest.model_fields["message"].metadata)])


def _pydantic(char: str) -> bool:
    try:
        _MESSAGE.validate_python(char, strict=True)
    except ValidationError:
        return False
    return True


_RS = jsonschema_rs.validator_for({"pattern": MESSAGE_PATTERN})
_RS_REGEX = jsonschema_rs.validator_for(
    {"pattern": MESSAGE_PATTERN}, pattern_options=jsonschema_rs.RegexOptions()
)
ENGINES: dict[str, Callable[[str], bool]] = {
    "python re": re.compile(MESSAGE_PATTERN).search,  # type: ignore[dict-item]
    "strict_regex (the authority)": strict_regex(MESSAGE_PATTERN).search,  # type: ignore[dict-item]
    "pydantic (generated RunRequest)": _pydantic,
    "jsonschema-rs fancy-regex": _RS.is_valid,
    "jsonschema-rs regex (the fast path)": _RS_REGEX.is_valid,
}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_engine_excludes_exactly_ecma_white_space(engine: str) -> None:
    matches = ENGINES[engine]
    excluded = {c for c in CODE_POINTS if not matches(c)}
    assert excluded == ECMA_SPACE, sorted(map(hex, map(ord, excluded ^ ECMA_SPACE)))


@pytest.mark.node
@pytest.mark.parametrize("flags", ["", "u"])
def test_ecma_262_reads_the_pattern_alike(flags: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    program = (
        "const re = new RegExp(process.argv[1], process.argv[2]); const out = [];"
        "for (let c = 0; c < 0x110000; c++) { if (c >= 0xd800 && c <= 0xdfff) continue;"
        " if (!re.test(String.fromCodePoint(c))) out.push(c); }"
        "console.log(JSON.stringify(out));"
    )
    done = subprocess.run(
        [node, "-e", program, MESSAGE_PATTERN, flags], capture_output=True, check=True, text=True
    )
    assert {chr(c) for c in json.loads(done.stdout)} == ECMA_SPACE


@pytest.mark.parametrize(("text", "matches"), NOT_BLANK)
def test_non_space_class_is_ecma(text: str, matches: bool) -> None:
    """The authority still gives `\\S` its ECMA-262 meaning, should a spec pattern use it."""
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
