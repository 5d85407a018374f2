"""Timestamps for ``scripts/bench``: when an entity batch committed, when a route's reply went out.

Why: the benchmark reports how long an HTTP caller waits after its turn is durable (the cost of
waiting for the entity's answer). Only the host knows both moments, so it writes them down.

Off unless ``DURABLEAGENT_BENCH_TRACE`` names a file when the host starts. Then every event is one
line appended to that file (one ``write`` each, no buffering), on the host's monotonic clock:

* ``C <ns> <entity id>``: on the store thread, right after an entity batch's COMMIT returned;
* ``R <ns> <session id>``: right after a function's response was handed to the socket, for
  responses that carry ``x-ms-session-id``;
* ``S <ns> <entity id>``: when the Durable HTTP API served a read of an entity's state (what a
  route polling through the public client costs: a storage transaction each on Azure).

The bench pairs each reply with the last commit of that session's entity before it. When off,
callers test :data:`ENABLED` (a module constant) and call nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

TRACE_ENV = "DURABLEAGENT_BENCH_TRACE"
_SESSION_HEADER = b"x-ms-session-id"


def _open(path: str | None) -> int | None:
    if not path:
        return None
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


_fd = _open(os.environ.get(TRACE_ENV))
ENABLED = _fd is not None
"""Whether this process traces (``DURABLEAGENT_BENCH_TRACE`` was set when it started)."""


def enabled() -> bool:
    """Whether this process traces (for callers off the hot path)."""
    return ENABLED


def _line(kind: str, subject: str) -> None:
    if _fd is not None:
        os.write(_fd, f"{kind} {time.monotonic_ns()} {subject}\n".encode())


def commit(entity_id: str) -> None:
    """Trace that an entity batch of ``entity_id`` just committed (a no-op when tracing is off)."""
    _line("C", entity_id)


def state_read(entity_id: str) -> None:
    """Trace a read of ``entity_id``'s state through the Durable HTTP API (no-op when off)."""
    _line("S", entity_id)


def reply(headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Trace a response that carries ``x-ms-session-id``, naming that session; others are ignored."""
    if _fd is None:
        return
    for name, value in headers:
        if name == _SESSION_HEADER:
            _line("R", value.decode("latin-1"))
            return
