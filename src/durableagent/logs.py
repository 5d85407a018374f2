"""How durableagent logs failures: the exception's type and an id, never its text by default.

Why: an exception's message and traceback can hold what a user typed, what a model answered, a
file path or a secret (provider errors often echo request data). Logs are kept and shipped
widely, so by default a failure is logged by its type and the id that ties it to the request.
``DURABLEAGENT_DEBUG_LOGS=1`` (``durableagent serve --debug-logs``) adds the full traceback, for
a developer's own machine.
"""

from __future__ import annotations

import logging
import os

DEBUG_LOGS_ENV = "DURABLEAGENT_DEBUG_LOGS"


def debug_logs() -> bool:
    """Whether failures are logged with their text and traceback."""
    return os.environ.get(DEBUG_LOGS_ENV) == "1"


def log_failure(logger: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log ``message % args`` at ERROR with the exception's type (and its traceback in debug mode)."""
    logger.error(message + " [%s]", *args, type(exc).__name__, exc_info=exc if debug_logs() else None)
