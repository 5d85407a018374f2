"""The bench's hosts run in the bench's environment, minus model credentials (bench/hostproc.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))  # the bench package lives at the project root, beside src/

from bench import hostproc  # noqa: E402


def test_a_bench_host_inherits_the_environment_without_model_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DURABLEAGENT_BENCH_PROBE", "kept")
    monkeypatch.setenv("OPENAI_API_KEY", "not-for-the-host")
    host, _ = hostproc.start(ROOT / "samples" / "weather", tmp_path / "s.sqlite", {"EXTRA_PROBE": "given"})
    try:
        assert host.pid is not None
        raw = Path(f"/proc/{host.pid}/environ").read_bytes().split(b"\0")
        env = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
    finally:
        host.stop()
    assert env.get("DURABLEAGENT_BENCH_PROBE") == "kept"
    assert env.get("EXTRA_PROBE") == "given"
    assert "PATH" in env
    assert "OPENAI_API_KEY" not in env
