"""``host.json`` ``extensions.queues``: polling, batching, visibility, poison and encoding settings.

Why: the queue trigger must retry and poison messages as on Azure, so the defaults and limits are the
extension's ``QueuesOptions`` (Azure/azure-sdk-for-net sdk/storage/
Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/Queues/QueuesOptions.cs): batchSize 16
(1-32), newBatchThreshold ``batchSize/2 * processors``, maxPollingInterval 1 minute (at least
100 ms, ``QueuePollingIntervals``), visibilityTimeout 0, maxDequeueCount 5, messageEncoding base64.
TimeSpans are ``hh:mm:ss`` strings; a number is milliseconds (the Functions 1.x form).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from durableagent.local.triggers.schedules import parse_timespan

MIN_POLLING = timedelta(milliseconds=100)
MAX_BATCH = 32


class QueueOptionsError(ValueError):
    """host.json's queue settings are invalid (the message names the setting)."""


@dataclass(frozen=True)
class QueueOptions:
    """The queue trigger's settings (defaults of the extension's ``QueuesOptions``)."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: timedelta = timedelta(minutes=1)
    visibility_timeout: timedelta = timedelta(0)
    max_dequeue_count: int = 5
    base64: bool = True


def _ci(doc: Any, key: str) -> Any:
    if not isinstance(doc, dict):
        return None
    return next((v for k, v in doc.items() if k.lower() == key.lower()), None)


def _span(value: Any, name: str) -> timedelta | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(milliseconds=value)
    span = parse_timespan(str(value)) if isinstance(value, str) else None
    if span is None or span < timedelta(0):
        raise QueueOptionsError(f"host.json: extensions.queues.{name} must be a TimeSpan like '00:00:02'")
    return span


def _int(value: Any, name: str, low: int, high: int | None = None) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high and value > high):
        bounds = f"{low}-{high}" if high else f">= {low}"
        raise QueueOptionsError(f"host.json: extensions.queues.{name} must be an integer {bounds}")
    return value


def load(app_dir: Path) -> QueueOptions:
    """The queue options of ``app_dir/host.json`` (defaults when absent)."""
    path = app_dir / "host.json"
    doc = json.loads(path.read_text(encoding="utf-8-sig")) if path.is_file() else {}
    queues = _ci(_ci(doc, "extensions"), "queues") or {}
    batch = _int(_ci(queues, "batchSize"), "batchSize", 1, MAX_BATCH) or 16
    threshold = _int(_ci(queues, "newBatchThreshold"), "newBatchThreshold", 0)
    polling = _span(_ci(queues, "maxPollingInterval"), "maxPollingInterval") or timedelta(minutes=1)
    if polling < MIN_POLLING:
        raise QueueOptionsError("host.json: extensions.queues.maxPollingInterval must be at least 100 ms")
    encoding = str(_ci(queues, "messageEncoding") or "base64").lower()
    if encoding not in ("base64", "none"):
        raise QueueOptionsError("host.json: extensions.queues.messageEncoding must be 'base64' or 'none'")
    return QueueOptions(
        batch_size=batch,
        new_batch_threshold=threshold if threshold is not None else batch // 2 * (os.cpu_count() or 1),
        max_polling_interval=polling,
        visibility_timeout=_span(_ci(queues, "visibilityTimeout"), "visibilityTimeout") or timedelta(0),
        max_dequeue_count=_int(_ci(queues, "maxDequeueCount"), "maxDequeueCount", 1) or 5,
        base64=encoding == "base64",
    )
