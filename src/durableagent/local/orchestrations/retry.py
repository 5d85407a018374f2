"""Retry delays of ``call_activity_with_retry``/``call_sub_orchestrator_with_retry``.

Why: the Durable extension, not the SDK, waits between attempts (DTFx ``RetryInterceptor``); the SDK
only expects one timer per failed attempt. This module computes those delays exactly as
``RetryInterceptor.ComputeNextDelay`` does from the extension's ``RetryOptions`` JSON
(``firstRetryIntervalInMilliseconds``, ``maxNumberOfAttempts``, ``backoffCoefficient``,
``maxRetryIntervalInMilliseconds``, ``retryTimeoutInMilliseconds``).

Invariant: after the *last* attempt the delay is zero (DTFx schedules an immediate "dummy timer"
for back-compat, which the SDK waits for before raising the failure).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from durableagent.local.orchestrations.model import RetryGroup
from durableagent.local.wire.orchestration_json import format_time, parse_time

# RetryOptions defaults in the extension (RetryOptions.cs): backoff 1, max interval 6 days.
DEFAULT_MAX_INTERVAL_MS = 6 * 24 * 3600 * 1000.0


class RetryOptionsError(ValueError):
    """``retryOptions`` lacks a required field or has a bad value (the extension throws)."""


def new_group(
    kind: str,
    name: str,
    input_text: str | None,
    instance_id: str | None,
    options: Any,
    at: datetime,
    seq: int,
) -> RetryGroup:
    """A retry group for an action first scheduled at ``at`` as sequence number ``seq``."""
    if not isinstance(options, Mapping):
        raise RetryOptionsError("retryOptions is missing")
    first = _number(options, "firstRetryIntervalInMilliseconds", required=True)
    attempts = _number(options, "maxNumberOfAttempts", required=True)
    if first is None or first <= 0:
        raise RetryOptionsError("firstRetryIntervalInMilliseconds must be greater than 0")
    return RetryGroup(
        kind=kind,
        name=name,
        input_text=input_text,
        instance_id=instance_id,
        first_interval_ms=first,
        max_attempts=int(attempts or 0),
        backoff=_number(options, "backoffCoefficient") or 1.0,
        max_interval_ms=_number(options, "maxRetryIntervalInMilliseconds"),
        timeout_ms=_number(options, "retryTimeoutInMilliseconds"),
        first_attempt_at=format_time(at),
        current=seq,
    )


def next_delay(group: RetryGroup, now: datetime) -> timedelta | None:
    """Delay before the next attempt after attempt number ``group.attempts`` failed.

    ``timedelta(0)`` after the last attempt (the immediate back-compat timer); ``None`` when the
    retry timeout has expired (DTFx gives up without a timer).
    """
    if group.attempts >= group.max_attempts:
        return timedelta(0)
    if group.timeout_ms is not None:
        expires = parse_time(group.first_attempt_at) + timedelta(milliseconds=group.timeout_ms)
        if now >= expires:
            return None
    delay_ms = group.first_interval_ms * (group.backoff ** (group.attempts - 1))
    cap = group.max_interval_ms if group.max_interval_ms is not None else DEFAULT_MAX_INTERVAL_MS
    return timedelta(milliseconds=min(delay_ms, cap))


def _number(options: Mapping[str, Any], key: str, *, required: bool = False) -> float | None:
    value = options.get(key)
    if value is None:
        if required:
            raise RetryOptionsError(f"retryOptions must contain {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RetryOptionsError(f"retryOptions.{key} is not a number")
    return float(value)
