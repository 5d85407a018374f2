"""The battery's fixed setup: its apps and agent, the crash points, the store checks.

Shared by the CI battery (``pytest tests/battery``) and the long runs (``scripts/battery``), so
both start the same host and hold the store to the same standard. ``BatteryFailure`` is what
every battery check raises when an invariant does not hold.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from durableagent.testing.host import LocalHost

ROOT = Path(__file__).resolve().parents[2]
BATTERY_APP = ROOT / "tests" / "apps" / "battery_app"
KEYS_APP = ROOT / "tests" / "apps" / "battery_keys"
AGENT = "Battery"
CRASH_POINTS = (
    "turn.before_model",
    "turn.after_model",
    "turn.after_transcript",
    "host.entity.in_commit",
    "host.entity.after_commit",
    "host.signal.after_commit",
)
MARKER = re.compile(r"\bm-[A-Za-z0-9_]+-\d+\b")
REQUEST_TIMEOUT = 60.0


class BatteryFailure(AssertionError):
    """An invariant of the battery does not hold."""


def battery_env(workdir: Path) -> dict[str, str]:
    """Environment of a battery host: offline-model faults on, the probes' files under ``workdir``."""
    return {
        "DURABLEAGENT_OFFLINE_FAULTS": "1",
        "BATTERY_PROBE": str(workdir / "probe.log"),
        "BATTERY_EFFECTS": str(workdir / "effects.sqlite"),
        "BATTERY_FLAKY_DIR": str(workdir),
    }


def battery_host(workdir: Path, **options: Any) -> LocalHost:
    """A (not yet started) subprocess host of the battery app on a file store in ``workdir``."""
    env = {**battery_env(workdir), **options.pop("env", {})}
    return LocalHost(BATTERY_APP, store=workdir / "store.sqlite", env=env, **options)


def store_health(store: Path) -> tuple[str, str]:
    """``(PRAGMA integrity_check, PRAGMA journal_mode)`` of a store file, opened read-only."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=30)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    return str(check), str(mode).lower()


def assert_store_healthy(store: Path) -> None:
    health = store_health(store)
    if health != ("ok", "wal"):
        raise BatteryFailure(f"store {store} is not healthy: integrity/journal_mode = {health}")
