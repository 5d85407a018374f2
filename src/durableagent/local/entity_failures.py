"""Log entity operations that failed inside the entity function (the batch itself succeeded).

Why: the Python SDK catches an operation's exception, records ``isError`` with the message as the
result, and goes on with the batch; the extension then traces ``OperationFailed`` (hub, entity,
request id, operation) and answers a *call* with ``exceptionType: "Error"``
(``TaskEntityShim.ExecuteOutOfProcBatch``). A *signal*'s failure reaches nobody, so without this
log it would vanish. By default the log names the entity, the operation, the request id and the
type the extension reports; the message (which may carry user data) only with ``--debug-logs``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from durableagent.local.wire.entity_batch import OperationResult
from durableagent.logs import THROTTLE, debug_logs

if TYPE_CHECKING:  # entity_mailbox logs its commit failures here
    from durableagent.local.entity_mailbox import MailboxRow

log = logging.getLogger("durableagent.local.entities")
# The SDK reports only str(exception); the extension's ResponseMessage says "Error" for all of them.
EXCEPTION_TYPE = "Error"


def _message(result: OperationResult) -> str:
    if result.result is None:
        return ""
    try:
        value = json.loads(result.result)
    except ValueError:
        return result.result
    return value if isinstance(value, str) else result.result


def log_failed_operations(
    entity: str, rows: Sequence[MailboxRow], results: Sequence[OperationResult]
) -> None:
    """Log a warning for each operation of the batch whose result is an error."""
    for row, result in zip(rows, results, strict=False):
        if not result.is_error:
            continue
        kind = "signal" if row.is_signal else "call"
        if debug_logs():
            log.warning(
                "entity %s: operation %r (%s %s) failed [%s]: %s",
                entity,
                row.operation,
                kind,
                row.request_id,
                EXCEPTION_TYPE,
                _message(result),
            )
        else:
            log.warning(
                "entity %s: operation %r (%s %s) failed [%s]",
                entity,
                row.operation,
                kind,
                row.request_id,
                EXCEPTION_TYPE,
            )


def log_commit_failure(exc: BaseException, retry_s: float) -> None:
    """A batch that could not be committed (a full disk): its type, at most once a minute per type.

    A full disk fails every stuck entity's retry once a second; a traceback per retry would flood
    the log (and its text may name paths). ``--debug-logs`` does not change this line.
    """
    name = type(exc).__name__
    THROTTLE.log(
        log,
        logging.ERROR,
        "batch:" + name,
        "an entity batch could not be committed (%s); retrying every %.0f s",
        name,
        retry_s,
    )
