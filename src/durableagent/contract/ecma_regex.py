r"""JSON Schema patterns are ECMA-262 regexes; give ``\s`` and ``\S`` their ECMA-262 meaning in Python.

Why this module exists: Python's ``\s`` also takes ``\x1c``-``\x1f`` and ``\x85`` and misses
``\ufeff``, so the spec's ``pattern: "\\S"`` (a message must not be blank) rejected a message
``"\x1f"`` that clients, Schemathesis and every ECMA-262 engine accept, and accepted ``"\ufeff"``
that they reject. ``contract.authority.strict_regex`` compiles the rewritten pattern with ``re.ASCII``,
which gives ``\d``, ``\w``, ``\b`` their ECMA-262 (ASCII) meaning as well.
"""

from __future__ import annotations

__all__ = ["ECMA_SPACE", "ecma_escapes"]

# ECMA-262 WhiteSpace and LineTerminator: what `\s` means in a JSON Schema pattern.
ECMA_SPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_ECMA_OUTSIDE = {"s": f"[{ECMA_SPACE}]", "S": f"[^{ECMA_SPACE}]"}


def ecma_escapes(pattern: str) -> str:
    r"""`\s` and `\S` spelled out as ECMA-262 defines them (inside a class: `\s` only)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped in _ECMA_OUTSIDE and not in_class:
                out.append(_ECMA_OUTSIDE[escaped])
            elif escaped == "s" and in_class:
                out.append(ECMA_SPACE)
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)
