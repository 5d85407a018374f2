"""Shared test configuration: the repository root and sample paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "samples" / "weather"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
