"""Commit-to-reply times from the host's bench trace (``DURABLEAGENT_BENCH_TRACE``).

Each reply line (``R <ns> <session>``) is paired with the last commit line (``C <ns> <entity>``) of
that session's entity before it; with one client per session that commit is the turn's own.
"""

from __future__ import annotations

from pathlib import Path


def commit_to_reply(path: Path, agent: str, session_prefix: str, start_offset: int = 0) -> list[float]:
    """Seconds from each turn's commit to its reply, for sessions starting with ``session_prefix``."""
    last_commit: dict[str, int] = {}
    samples = []
    entity_prefix = f"@{agent.lower()}@"
    with path.open("rb") as f:
        f.seek(start_offset)
        for raw in f:
            kind, ns, subject = raw.decode().rstrip("\n").split(" ", 2)
            if kind == "C" and subject.startswith(entity_prefix):
                last_commit[subject[len(entity_prefix) :]] = int(ns)
            elif kind == "R" and subject.startswith(session_prefix) and subject in last_commit:
                samples.append((int(ns) - last_commit.pop(subject)) / 1e9)
    return samples


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
