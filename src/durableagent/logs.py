"""How durableagent logs failures: the exception's type and an id, never its text by default.

Why: an exception's message and traceback can hold what a user typed, what a model answered, a
file path or a secret (provider errors often echo request data). Logs are kept and shipped
widely, so by default a failure is logged by its type and the id that ties it to the request.
``DURABLEAGENT_DEBUG_LOGS=1`` (``durableagent serve --debug-logs``) adds the full traceback, for
a developer's own machine. Failures that repeat (a full disk, a store that does not answer) go
through :data:`THROTTLE`: one line per kind per minute, with the count of the lines it skipped.
"""

from __future__ import annotations

import logging
import os
import threading
import time

DEBUG_LOGS_ENV = "DURABLEAGENT_DEBUG_LOGS"


def debug_logs() -> bool:
    """Whether failures are logged with their text and traceback."""
    return os.environ.get(DEBUG_LOGS_ENV) == "1"


def log_failure(logger: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log ``message % args`` at ERROR with the exception's type (and its traceback in debug mode)."""
    logger.error(message + " [%s]", *args, type(exc).__name__, exc_info=exc if debug_logs() else None)


class Throttle:
    """At most one log line per ``key`` every ``every`` seconds; the next one counts what it skipped.

    Why: a failure that lasts (a full disk, a store that does not answer) is hit again by every
    retry of every stuck session, about once a second each; one line a minute per kind says the same.
    """

    def __init__(self, every: float = 60.0) -> None:
        """Let one line per key through every ``every`` seconds."""
        self.every = every
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, int]] = {}  # key -> (when it last logged, lines skipped since)

    def log(self, logger: logging.Logger, level: int, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` at ``level`` unless ``key`` logged recently; whether it did."""
        now = time.monotonic()
        with self._lock:
            last, skipped = self._last.get(key, (-self.every, 0))
            if now - last < self.every:
                self._last[key] = (last, skipped + 1)
                return False
            if len(self._last) > 1024:  # keys are kinds of failure, not sessions; keep it bounded anyway
                self._last.clear()
            self._last[key] = (now, 0)
        suffix = f" ({skipped} similar line(s) skipped in the last {self.every:.0f} s)" if skipped else ""
        logger.log(level, message + suffix, *args)
        return True


THROTTLE = Throttle()
