"""Named crash points for the durability battery.

The battery kills the process at precise moments of a turn (before the model call, inside the
host's commit, ...) and checks that nothing acknowledged is lost or duplicated. Production code
calls :func:`crash_point` at those moments; it does nothing unless ``DURABLEAGENT_CRASH_AT`` names
the point. Callers test :data:`ARMED` first (read once, at import: the battery sets the variable
before it starts the host process), so in normal runs a crash point costs one attribute read.
"""

from __future__ import annotations

import os
import threading

CRASH_ENV = "DURABLEAGENT_CRASH_AT"
CRASH_EXIT_CODE = 137

_hits: dict[str, int] = {}
_lock = threading.Lock()
ARMED = bool(os.environ.get(CRASH_ENV))
"""Whether this process was started with a crash point armed."""


def _target() -> tuple[str, int] | None:
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return None
    name, _, nth = spec.partition(":")
    return name, int(nth) if nth.isdigit() else 1


def crash_point(name: str) -> None:
    """Exit the process abruptly (as ``kill -9`` would) when ``DURABLEAGENT_CRASH_AT`` names this point.

    ``DURABLEAGENT_CRASH_AT=name`` crashes on the first hit, ``name:N`` on the N-th hit in this
    process. No cleanup runs: no ``finally`` blocks, no atexit handlers, no flushing.
    """
    target = _target()
    if target is None or target[0] != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        hit = _hits[name]
    if hit >= target[1]:
        os._exit(CRASH_EXIT_CODE)
