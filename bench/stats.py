"""Percentiles and summaries (milliseconds), nearest-rank, no interpolation."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def pct(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def summary(samples: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50_ms": round(statistics.median(samples) * 1000, 3) if samples else float("nan"),
        "p95_ms": round(pct(samples, 0.95), 3),
        "p99_ms": round(pct(samples, 0.99), 3),
    }


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")
