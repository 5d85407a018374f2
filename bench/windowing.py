"""History windows (issue 14.2): turn cost as a session grows, with a 20-turn window and without.

One host serves the same offline agent twice (``bench/apps/window``): ``WindowedAgent``
(``history_window=20``) and ``WholeAgent`` (every turn). Each runs the growth workload of the
standard suite (turns 5-55 of a fresh session alternating with turns 550-600 of a long one); the
figures are ratios of p50 latencies measured in the same run. Targets: <= 1.2x with the window,
<= 3x with the whole history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import hostproc, load, suite
from bench.shapes import durableagent_shape
from bench.stats import ratio, summary

APP = Path(__file__).resolve().parent / "apps" / "window"
AGENTS = {"window_20": "WindowedAgent", "whole": "WholeAgent"}


def run(params: dict[str, int], work: Path) -> dict[str, Any]:
    """``{"window_20": {...}, "whole": {...}}``: early/late p50 and their ratio for each agent."""
    host, _ = hostproc.start(APP, work / "window.sqlite")
    out: dict[str, Any] = {}
    try:
        for key, agent in AGENTS.items():
            shape = durableagent_shape(agent)
            load.sequential(host.port, 60, 4, f"warm-{key}", shape)
            early_s, late_s = load.growth(
                host.port, f"grow-{key}", params["growth"], suite.GROWTH_EARLY, shape
            )
            early, late = summary(early_s), summary(late_s)
            out[key] = {
                "turns": params["growth"],
                "early_p50_ms": early["p50_ms"],
                "late_p50_ms": late["p50_ms"],
                "ratio": ratio(late["p50_ms"], early["p50_ms"]),
            }
    finally:
        host.stop()
    return out


def targets(window: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The two targets of issue 14.2 as ``(target, measured, met)``."""
    w, whole = window["window_20"], window["whole"]
    return [
        ("window 20: turns 550-600 <= 1.2x turns 5-55", f"{w['ratio']:.2f}x", w["ratio"] <= 1.2),
        ("whole history: turns 550-600 <= 3x turns 5-55", f"{whole['ratio']:.2f}x", whole["ratio"] <= 3),
    ]
