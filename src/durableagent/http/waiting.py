"""How long ``POST /run`` waits for its reply: the headers, query and body that decide it.

Precedence: the ``x-ms-wait-for-response`` header, the ``wait_for_response`` query parameter, the
body's ``wait_for_response``, then ``Prefer`` (RFC 7240: ``respond-async``, ``wait=N``), then the
app's wait cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TRUE, _FALSE = frozenset({"true", "1", "yes", "y", "on"}), frozenset({"false", "0", "no", "n", "off"})


@dataclass(frozen=True)
class WaitPreference:
    """How long to wait for the reply, and the ``Prefer`` token honoured (for ``Preference-Applied``)."""

    seconds: float
    applied: str | None


def parse_bool(value: Any) -> bool | None:
    """``True``/``False`` for the usual spellings, ``None`` for anything else (so the next source decides)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
    return None


def parse_prefer(header: str | None) -> tuple[bool, float | None]:
    """``(respond_async, wait_seconds)`` from a ``Prefer`` header; unknown preferences are ignored."""
    respond_async, wait = False, None
    for part in (header or "").split(","):
        token = part.split(";", 1)[0].strip().lower()
        if token == "respond-async":  # noqa: S105 - a Prefer token, not a secret
            respond_async = True
        elif token.startswith("wait="):
            try:
                wait = max(0.0, float(token[5:].strip().strip('"')))
            except ValueError:
                continue
    return respond_async, wait


def wait_preference(
    headers: Mapping[str, Any], query: Mapping[str, Any], body_wait: Any, cap: float
) -> WaitPreference:
    """How long to wait for the reply before answering 202 (see the module docstring for precedence)."""
    for explicit in (headers.get("x-ms-wait-for-response"), query.get("wait_for_response"), body_wait):
        decided = parse_bool(explicit)
        if decided is not None:
            return WaitPreference(cap if decided else 0.0, None)
    respond_async, wait = parse_prefer(headers.get("prefer"))
    if wait is not None:
        applied = f"wait={wait:g}" if not respond_async else f"respond-async, wait={wait:g}"
        return WaitPreference(min(wait, cap), applied)
    return WaitPreference(0.0, "respond-async") if respond_async else WaitPreference(cap, None)
