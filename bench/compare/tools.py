"""Tools from npm for the comparisons, under ``bench/.tools/<name>/`` (gitignored).

Installed by package name with ``npm install --no-package-lock --ignore-scripts`` (no lock file
with resolved URLs, no install scripts: the packages used here ship their binaries as plain files),
once, then reused. A failed install is reported, never fatal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / ".tools"


class ToolMissing(RuntimeError):
    pass


def ensure_npm(name: str, package: str, binary: str, *, timeout: float = 600) -> Path:
    """The file ``binary`` (under ``node_modules``) of ``package``, installed in ``bench/.tools/<name>``."""
    root = TOOLS / name
    path = root / "node_modules" / binary
    marker = root / ".installed"
    if marker.exists() and marker.read_text() == package and path.exists():
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise ToolMissing("npm is not installed (needed for the Restate server package)")
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"private": True}) + "\n")
    log = root / "install.log"
    with log.open("w") as out:
        try:
            proc = subprocess.run(
                [npm, "install", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund", package],
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ToolMissing(f"npm install {package} timed out (log: {log})") from None
    if proc.returncode != 0 or not path.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise ToolMissing(f"npm install {package} gave no {binary}: {' | '.join(tail)} (log: {log})")
    marker.write_text(package)
    return path
