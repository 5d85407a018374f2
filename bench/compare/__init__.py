"""Comparisons run by ``scripts/bench --compare``: each installs into bench/.venvs and may be skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_all(work: Path, *, quick: bool) -> list[dict[str, Any]]:
    from bench.compare import langgraph_server, reference

    results = []
    for module in (reference, langgraph_server):
        try:
            results.append(module.run(work, quick=quick))
        except Exception as exc:  # noqa: BLE001 - an extra never fails the bench; say why it was skipped
            results.append({"name": module.NAME, "skipped": f"{type(exc).__name__}: {exc}"})
    return results
