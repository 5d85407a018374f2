"""Hypothesis strategies for values around the contract's edges (shared by the agreement tests).

Unicode white space that regex engines disagree on, a `\\n` just before where a `$` anchors,
identifiers one character too long, the reserved session id `run`, big integers, bools where
integers go (and integers where bools go), nulls, integral floats.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# ECMA-262 WhiteSpace + LineTerminator (what the message pattern excludes) ...
ECMA_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
ECMA_SPACE += "\u2028\u2029\u202f\u205f\u3000\ufeff"
# ... and characters some engine's `\s` gets wrong (Python: \x1c-\x1f, \x85; Rust: \x85; old
# Unicode: \u180e), or that only look blank.
LOOKALIKES = "\x1c\x1d\x1e\x1f\x85\u180e\u200b\u2060\u00ad\x00"

spaces = st.text(alphabet=ECMA_SPACE, max_size=4)
lookalikes = st.text(alphabet=ECMA_SPACE + LOOKALIKES, min_size=1, max_size=4)
messages = (
    spaces
    | lookalikes
    | st.tuples(spaces, st.sampled_from(["x", "é", "\u4e2d", "\U0001f600", *LOOKALIKES]), spaces).map("".join)
    | st.text(max_size=6)
)

_ID_CORE = st.sampled_from(["user-123", "a", "A_b-9", "run", "Run", "RUN", "x" * 128, "a.b", ":k", ".a"])
identifiers = (
    st.sampled_from(["run", "abc\n"])  # the two a generated model or a Python `$` gets wrong
    | _ID_CORE
    | st.tuples(_ID_CORE, st.sampled_from(["\n", "\r\n", "\r", " ", "\x00", "\u2028", "é", "x"])).map("".join)
    | st.sampled_from(["", "x" * 129, "\n", "a@b", "a/b", "run\n"])
    | st.from_regex(r"[A-Za-z0-9_:.-]{1,130}", fullmatch=True)
)

big_ints = st.sampled_from([2**31, 2**53 + 1, 2**63, 2**64, 10**30, -(10**30), 10**400])
numbers = (
    st.integers(-3, 1002)
    | big_ints
    | st.sampled_from([0.0, -0.0, 1.0, 5.0, 1.5, 1e300, -1e-300])
    | st.floats(allow_nan=False, allow_infinity=False)
)
scalars = st.none() | st.booleans() | numbers | identifiers | messages


EDGE_STRINGS = [
    *ECMA_SPACE,
    *LOOKALIKES,
    "x",
    " x ",
    "\ufeffx",
    "",
    "user-123",
    "a",
    "run",
    "Run",
    "run\n",
    "abc\n",
    "abc\r\n",
    "abc\r",
    "\nabc",
    "abc\u2028",
    "a b",
    "a@b",
    "a/b",
    "a.b",
    ".a",
    ":a",
    "..",
    "é",
    "x" * 128,
    "x" * 129,
    "1",
    "0",
    "true",
    "false",
    "TRUE",
    "yes",
    "on",
    "maybe",
    "null",
]
EDGE_VALUES: list[Any] = [
    *EDGE_STRINGS,
    None,
    True,
    False,
    0,
    1,
    -1,
    1000,
    1001,
    10**9,
    10**9 + 1,
    2**63,
    10**30,
    -(10**30),
    10**400,
    0.0,
    -0.0,
    1.0,
    1.5,
    1e300,
    [],
    {},
    ["x"],
    {"type": "object"},
]
"""Every one of these is tried against every schema of the spec (no sampling)."""


def json_values(leaves: st.SearchStrategy[Any] = scalars) -> st.SearchStrategy[Any]:
    """Small JSON documents built from `leaves`."""
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=6,
    )


# What `limits.check_response_schema` lets through (it runs before schema validation, so the
# agreement tests stay inside it): small, valid draft 2020-12 schemas, or non-objects.
response_schemas: st.SearchStrategy[Any] = st.sampled_from(
    [{"type": "object"}, {"type": "string", "minLength": 1}, {"title": "t"}, {}, [], "s", 1, None, True]
)

run_bodies = st.fixed_dictionaries(
    {"message": messages | scalars},
    optional={
        "sessionId": identifiers | scalars,
        "sessionKey": identifiers,
        "session_id": identifiers,
        "thread_id": identifiers | st.none(),
        "role": st.sampled_from(["user", "system", "admin", "User", None, 1]),
        "enable_tool_calls": st.booleans() | st.sampled_from([0, 1, "true", None, 1.0]),
        "wait_for_response": st.booleans() | st.sampled_from([0, 1, "false", None]),
        "response_schema": response_schemas,
        "response_format": response_schemas,
        "extra": json_values(),
    },
) | st.dictionaries(st.sampled_from(["message", "sessionId", "role", "x"]), scalars, max_size=3)

query_values = (
    st.sampled_from(["1", "01", "+1", "-1", " 1", "1\n", "1 ", "1.0", "1e2", "0x10", "1_0", "\uff11"])
    | st.sampled_from(["1000", "1001", "1000000000", "1000000001", "9" * 18, "9" * 19, "true", "-0"])
    | st.integers(-2, 2000).map(str)
    | identifiers
)


def json_bytes(value: Any) -> bytes:
    """`value` as the JSON a client sends (non-ASCII as UTF-8)."""
    return json.dumps(value, ensure_ascii=False).encode()
