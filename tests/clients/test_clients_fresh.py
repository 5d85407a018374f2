"""Drift check: clients/ is exactly what scripts/generate-clients makes of the current openapi.yaml.

Why: the generated clients are committed so that users can copy them; a spec change without
regeneration would ship clients that disagree with the server. Generation is deterministic (no
timestamps; the spec's sha256 and the generator versions are written into the files), so the
check regenerates into a scratch directory and compares every file byte for byte. A mismatch after
a generator upgrade is also drift: regenerate and commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CLIENTS, ROOT

pytestmark = pytest.mark.contract  # a drift check against openapi.yaml (``clients`` comes from the directory)

HINT = "clients/ is stale: run scripts/generate-clients and commit clients/."


def _generate(out: Path, only: str) -> None:
    env = {**os.environ, "VENV": sys.prefix}
    result = subprocess.run(
        ["sh", str(ROOT / "scripts" / "generate-clients"), "--out", str(out), "--only", only],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _files(base: Path) -> dict[str, bytes]:
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def _assert_same(fresh: Path, committed: Path) -> None:
    new, old = _files(fresh), _files(committed)
    assert sorted(new) == sorted(old), f"{HINT}\nfiles differ: {sorted(set(new) ^ set(old))}"
    changed = [name for name in new if new[name] != old[name]]
    assert changed == [], f"{HINT}\nchanged: {changed}"


def test_python_client_is_fresh(tmp_path: Path) -> None:
    _generate(tmp_path, "python")
    _assert_same(tmp_path / "python", CLIENTS / "python")
    assert (tmp_path / "README.md").read_bytes() == (CLIENTS / "README.md").read_bytes(), HINT


@pytest.mark.node
def test_typescript_client_is_fresh(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    if not (ROOT / "tools" / "node" / "node_modules" / ".bin" / "openapi-typescript").exists():
        pytest.skip("openapi-typescript is missing: run scripts/setup-test-tools node_clients")
    _generate(tmp_path, "typescript")
    _assert_same(tmp_path / "typescript", CLIENTS / "typescript")


def test_every_generated_file_says_so() -> None:
    sources = [p for p in CLIENTS.rglob("*") if p.suffix in (".py", ".ts")]
    assert sources
    for path in sources:
        assert "DO NOT EDIT" in path.read_text(encoding="utf-8").splitlines()[0], path
