"""What a run request asks for beyond its message: which session, how long to wait, which media type.

Session ids come from the body (``sessionId``, ``sessionKey``, ``session_id``, ``thread_id``) or the
query string (same names); values that disagree are a 400. Waiting follows, in order of
precedence: the ``x-ms-wait-for-response`` header, the ``wait_for_response`` query parameter, the
body's ``wait_for_response``, then ``Prefer`` (RFC 7240: ``respond-async``, ``wait=N``), then the
app's wait cap. The reply is text when the request was text and ``Accept`` does not ask for JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from durableagent.contract.problems import ConflictingSessionIds

SESSION_FIELDS = ("sessionId", "sessionKey", "session_id", "thread_id")
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def parse_bool(value: Any) -> bool | None:
    """``True``/``False`` for the usual spellings, ``None`` for anything else (so the next source decides)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def resolve_session(body: Mapping[str, Any], query: Mapping[str, Any]) -> str | None:
    """The one session id the request names, or None; raises on disagreeing aliases."""
    values = {
        str(source[name]).strip()
        for source in (body, query)
        for name in SESSION_FIELDS
        if isinstance(source.get(name), str) and str(source[name]).strip()
    }
    if len(values) > 1:
        raise ConflictingSessionIds(
            "The request names more than one session (sessionId, sessionKey, session_id, thread_id disagree)."
        )
    return values.pop() if values else None


@dataclass(frozen=True)
class WaitPreference:
    seconds: float
    applied: str | None  # the Prefer token honoured, for Preference-Applied


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
    headers: Mapping[str, str], query: Mapping[str, Any], body: Mapping[str, Any], cap: float
) -> WaitPreference:
    """How long to wait for the reply before answering 202 (see the module docstring for precedence)."""
    for explicit in (
        headers.get("x-ms-wait-for-response"),
        query.get("wait_for_response"),
        body.get("wait_for_response"),
    ):
        decided = parse_bool(explicit)
        if decided is not None:
            return WaitPreference(cap if decided else 0.0, None)
    respond_async, wait = parse_prefer(headers.get("prefer"))
    if wait is not None:
        applied = f"wait={wait:g}" if not respond_async else f"respond-async, wait={wait:g}"
        return WaitPreference(min(wait, cap), applied)
    if respond_async:
        return WaitPreference(0.0, "respond-async")
    return WaitPreference(cap, None)


def wants_text(request_media_type: str | None, accept: str | None) -> bool:
    """Reply in text/plain: the request was text and the client did not ask for JSON."""
    if request_media_type != "text/plain":
        return False
    return "json" not in (accept or "").lower()
