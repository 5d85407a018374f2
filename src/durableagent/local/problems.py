"""Host-level error responses of the local host, as RFC 9457 ``application/problem+json``.

Why: errors the *host* produces (unknown route, method not allowed, body too large, missing key, a
function that raised) must look like the app's own problems without importing app code (the host
runs any Durable Functions app). This is the one tiny renderer for them.

Invariant: bodies never carry exception text; an invocation failure names only its correlation id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PROBLEM_BASE = "https://durableagent.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Problem:
    """One host problem; ``slug`` completes the ``type`` URI."""

    status: int
    slug: str
    title: str
    detail: str
    headers: tuple[tuple[str, str], ...] = field(default=())

    def body(self) -> bytes:
        return json.dumps(
            {
                "type": PROBLEM_BASE + self.slug,
                "title": self.title,
                "status": self.status,
                "detail": self.detail,
            }
        ).encode()

    def header_list(self) -> list[tuple[bytes, bytes]]:
        body_len = str(len(self.body())).encode()
        out = [(b"content-type", PROBLEM_CONTENT_TYPE.encode()), (b"content-length", body_len)]
        out.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers)
        return out


def not_found(path: str) -> Problem:
    del path  # never echo client input
    return Problem(404, "not-found", "Not Found", "No function or endpoint matches this path.")


def method_not_accepted() -> Problem:
    """A function's route matched but not its methods: 404, as the Functions host answers."""
    return Problem(
        404,
        "not-found",
        "Not Found",
        "No function matches this path and method (a method the function does not accept is a 404, "
        "as on Azure).",
    )


def payload_too_large(limit: int) -> Problem:
    # No "Connection: close": the server would then close at once, and a client still writing its
    # body would see a reset instead of this answer (see http_io.refuse_body's lingering).
    return Problem(
        413,
        "payload-too-large",
        "Payload Too Large",
        f"The request body exceeds the limit of {limit} bytes.",
    )


def unauthorized() -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Unauthorized",
        "A valid key is required (x-functions-key header or code query parameter).",
        (("WWW-Authenticate", 'Key realm="durableagent", header="x-functions-key", query="code"'),),
    )


def invocation_failed(invocation_id: str) -> Problem:
    return Problem(
        500,
        "invocation-failed",
        "Function Invocation Failed",
        f"The function failed. Correlation id: {invocation_id}.",
        (("x-correlation-id", invocation_id),),
    )


def bad_request(detail: str) -> Problem:
    return Problem(400, "bad-request", "Bad Request", detail)


def unavailable(detail: str) -> Problem:
    return Problem(503, "unavailable", "Service Unavailable", detail, (("Retry-After", "1"),))
