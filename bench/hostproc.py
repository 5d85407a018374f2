"""Start the local host on an app in a subprocess, time its startup, read its memory."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from bench.client import RawClient
from durableagent.testing.host import LocalHost

MODEL_ENV = ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL")


def offline_env() -> dict[str, str]:
    """The environment without model credentials: the sample then uses the offline model."""
    return {k: v for k, v in os.environ.items() if k not in MODEL_ENV}


def start(app_dir: Path, store: Path, env: Mapping[str, str] | None = None) -> tuple[LocalHost, float]:
    """A running host and the seconds from launch to its first served request (GET /api/health)."""
    saved = dict(os.environ)
    kept = offline_env()  # read before the clear below: after it, os.environ is empty
    os.environ.clear()
    os.environ.update(kept)
    try:
        started = time.perf_counter()
        host = LocalHost(app_dir, store=store, env=dict(env or {}), startup_timeout=60)
        host.start()
        client = RawClient("127.0.0.1", host.port)
        status, _, _ = client.request("GET", "/api/health")
        elapsed = time.perf_counter() - started
        client.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if status != 200:
        host.stop()
        raise RuntimeError(f"GET /api/health answered {status}")
    return host, elapsed


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (VmRSS)."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used so far (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
