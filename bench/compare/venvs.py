"""Private virtual environments for the comparison extras, under ``bench/.venvs/`` (gitignored).

Each comparison installs its packages by name with pip, into its own venv, so nothing it pulls in
can change durableagent's own environment. A failed install is reported, never fatal.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

VENVS = Path(__file__).resolve().parents[1] / ".venvs"


class InstallFailed(RuntimeError):
    pass


def ensure(name: str, packages: list[str], *, timeout: float = 900) -> Path:
    """The python of ``bench/.venvs/<name>`` with ``packages`` installed (installed once, then reused)."""
    root = VENVS / name
    python = root / "bin" / "python"
    marker = root / ".installed"
    wanted = "\n".join(packages)
    if marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
    log = root / "install.log"
    with log.open("w") as out:
        try:
            proc = subprocess.run(
                [str(python), "-m", "pip", "install", "--disable-pip-version-check", *packages],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise InstallFailed(f"pip install {' '.join(packages)} timed out (log: {log})") from None
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        raise InstallFailed(f"pip install {' '.join(packages)} failed: {' | '.join(tail)} (log: {log})")
    marker.write_text(wanted)
    return python


def version_of(python: Path, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "?"


if __name__ == "__main__":  # python -m bench.compare.venvs NAME PACKAGE...
    print(ensure(sys.argv[1], sys.argv[2:]))
