"""jsonschema errors → the `errors` member of a problem (`[{pointer, message}]`) and its `detail`.

Why this module exists: validation failures must tell the caller *where* (a JSON pointer) and
*what*, without echoing unbounded input back: messages are cut to 200 characters, pointer tokens
to 128, and at most `MAX_ERRORS` entries are kept. A missing required property and an unexpected
one point at the property itself (jsonschema reports both at the parent object).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from jsonschema.exceptions import ValidationError

__all__ = ["MAX_ERRORS", "error_list", "pointer", "summary"]

MAX_ERRORS = 20


def pointer(path: Iterator[str | int] | list[str | int] | tuple[str | int, ...]) -> str:
    """RFC 6901 JSON pointer for a sequence of keys/indices (`[]` → `""`)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def error_list(errors: Iterable[Exception], base: str = "") -> list[dict[str, str]]:
    """`[{pointer, message}]` from jsonschema errors; missing/extra properties point at the field."""
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in errors:
        if not isinstance(error, ValidationError):
            continue
        at = base + pointer(list(error.absolute_path))
        items: list[tuple[str, str]]
        required = error.validator_value if error.validator == "required" else None
        if isinstance(required, list) and isinstance(error.instance, dict):
            items = [
                (f"{at}/{_escape(n)}", f"{_short(n)!r} is a required property")
                for n in required
                if n not in error.instance
            ]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            items = [
                (f"{at}/{_escape(k)}", f"{_short(k)!r} is not an allowed property")
                for k in error.instance
                if k not in known
            ]
        else:
            items = [(at, _short(error.message, 200))]
        for item in items:
            if item not in seen and len(out) < MAX_ERRORS:
                seen.add(item)
                out.append({"pointer": item[0], "message": item[1]})
    return out


def _escape(token: str) -> str:
    return _short(str(token), 128).replace("~", "~0").replace("/", "~1")


def _short(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def summary(errors: list[dict[str, str]]) -> str:
    """A one-line `detail` naming the first error (and how many more there are)."""
    if not errors:
        return "The request does not match the API contract."
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{first['pointer'] or '/'}: {first['message']}{more}"
