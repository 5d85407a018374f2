"""Comparisons run by ``scripts/bench --compare``: each installs into bench/.venvs (and bench/.tools)
and may be skipped with its reason; the bench goes on.

The peers (Restate, DBOS) run the same suite as durableagent (bench/suite.py, bench/slow.py) and
stand next to it in the side-by-side table; the reference package and LangGraph's dev server are
the older, lighter comparisons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.progress import note

NAMES = ("restate", "dbos", "reference", "langgraph")


def run_all(
    work: Path, params: dict[str, int], *, quick: bool, only: frozenset[str] = frozenset(NAMES)
) -> list[dict[str, Any]]:
    """Every comparison named in ``only`` (see ``NAMES``), in that order; skipped ones say why."""
    from bench.compare import dbos_peer, langgraph_server, model_check, reference, restate_peer

    results: list[dict[str, Any]] = []
    for key, peer in (("restate", restate_peer), ("dbos", dbos_peer)):
        if key not in only:
            continue
        note(f"{peer.NAME}: install, startup, standard suite, slow model at scale")
        try:
            model_check.check()  # the peers' fake model answers as ours does
            results.append(peer.run(work, params))
        except Exception as exc:  # noqa: BLE001 - a peer never fails the bench; say why it was skipped
            results.append({"name": peer.NAME, "peer": key, "skipped": f"{type(exc).__name__}: {exc}"})
    for key, module in (("reference", reference), ("langgraph", langgraph_server)):
        if key not in only:
            continue
        note(f"{module.NAME}")
        try:
            results.append(module.run(work, quick=quick))
        except Exception as exc:  # noqa: BLE001 - an extra never fails the bench; say why it was skipped
            results.append({"name": module.NAME, "skipped": f"{type(exc).__name__}: {exc}"})
    return results
