"""The problems the local host itself answers (no route, no key, body too large, a function that raised).

Why: errors the *host* produces must look like the app's own problems without importing app code
(the host runs any Durable Functions app). They are instances of the one Problem tree
(``durableagent.contract.problems``, which imports nothing of the app) and are rendered by its one
renderer (``http_io.send_problem``).

Invariant: bodies never carry exception text or client input; an invocation failure names only
its correlation id.
"""

from __future__ import annotations

from durableagent.contract.problems import (
    InternalError,
    InvocationFailed,
    MisdirectedRequest,
    NotFound,
    PayloadTooLarge,
    Problem,
    Unauthorized,
)

__all__ = [
    "host_failed",
    "invocation_failed",
    "method_not_accepted",
    "misdirected",
    "not_found",
    "payload_too_large",
    "unauthorized",
]

NO_ROUTE = "No function or endpoint matches this path."


def not_found() -> Problem:
    """No function or Durable endpoint has this path."""
    return NotFound(NO_ROUTE)


def method_not_accepted() -> Problem:
    """A function's route matched but not its methods: 404, as the Functions host answers."""
    return NotFound(
        "No function matches this path and method "
        "(a method the function does not accept is a 404, as on Azure)."
    )


def payload_too_large(limit: int) -> Problem:
    """The body is over the host's limit.

    No ``Connection: close``: the server would then close at once, and a client still writing its
    body would see a reset instead of this answer (see ``http_io.refuse_body``'s lingering).
    """
    return PayloadTooLarge(f"The request body exceeds the limit of {limit} bytes.")


def unauthorized() -> Problem:
    """No valid key for a key-protected function or the Durable webhooks."""
    return Unauthorized(
        "A valid key is required (x-functions-key header or code query parameter).",
        headers={"WWW-Authenticate": 'Key realm="durableagent", header="x-functions-key", query="code"'},
    )


def invocation_failed(invocation_id: str) -> Problem:
    """A function raised; the answer names only the invocation id."""
    return InvocationFailed(
        f"The function failed. Correlation id: {invocation_id}.", headers={"x-correlation-id": invocation_id}
    )


def misdirected() -> Problem:
    """The ``Host`` header names a server this host does not answer for (``http_protocol.HostNames``)."""
    return MisdirectedRequest("This host does not answer for the Host the request names.")


def host_failed() -> Problem:
    """The host itself failed while serving a request (a bug; the log has the exception type)."""
    return InternalError("The host failed to serve this request.")
