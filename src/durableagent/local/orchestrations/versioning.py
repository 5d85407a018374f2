"""Orchestration versioning: which version a new instance gets, and whether this host may run one.

Why: Durable Functions associates a version with every orchestration instance when it is created
(``start_new(version=...)``, ``call_sub_orchestrator(version=...)``, else host.json
``extensions.durableTask.defaultVersion``), hands it to the orchestrator as
``ExecutionStarted.Version`` (the SDK's ``context.version``) and only lets a worker run instances
its ``defaultVersion`` is compatible with (``versionMatchStrategy``: ``None`` runs everything,
``Strict`` only the same version, ``CurrentOrOlder`` — the default — the same or older). On a
mismatch ``versionFailureStrategy`` ``Reject`` (default) leaves the instance untouched for a
compatible host (here: a restart with a matching host.json); ``Fail`` fails it.

Version comparison, as documented for the feature: empty/absent versions are equal and older
than any defined one; two ``System.Version``-like strings (2 to 4 numeric parts) compare
numerically, part by part (a missing part is older than ``0``); two plain integers compare as
numbers; anything else compares as case-insensitive text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from durableagent.local.orchestrations.model import ChildStart
from durableagent.local.settings import VersioningSettings

_SYSTEM_VERSION = re.compile(r"^\d+(\.\d+){1,3}$")


def version_for_new_instance(requested: str | None, settings: VersioningSettings) -> str | None:
    """An explicit version wins over ``defaultVersion``; ``None``: the instance has no version."""
    return requested if requested is not None else settings.default_version


def _key(version: str) -> tuple[int, ...] | int | None:
    if _SYSTEM_VERSION.match(version):
        parts = [int(p) for p in version.split(".")]
        return tuple(parts + [-1] * (4 - len(parts)))
    if version.isdigit():
        return int(version)
    return None


def compare(left: str | None, right: str | None) -> int:
    """-1, 0 or 1 as ``left`` is older than, equal to or newer than ``right``."""
    a, b = left or "", right or ""
    if not a or not b:
        return (a != "") - (b != "")
    ka, kb = _key(a), _key(b)
    if type(ka) is type(kb) and ka is not None and kb is not None:
        return (ka > kb) - (ka < kb)  # type: ignore[operator]
    la, lb = a.lower(), b.lower()
    return (la > lb) - (la < lb)


@dataclass(frozen=True)
class Verdict:
    """``run``: invoke the orchestrator; otherwise ``fail_message`` (Fail) or neither (Reject)."""

    run: bool
    fail_message: str | None = None


RUN = Verdict(True)


def check(instance_version: str | None, settings: VersioningSettings) -> Verdict:
    """May this host (its ``defaultVersion``) run an instance of ``instance_version``?"""
    worker = settings.default_version
    strategy = settings.match_strategy
    if strategy == "None":
        return RUN
    order = compare(instance_version, worker)
    if strategy == "Strict" and order == 0:
        return RUN
    if strategy == "CurrentOrOlder" and order <= 0:
        return RUN
    if settings.failure_strategy == "Reject":
        return Verdict(False)
    relation = "is greater than" if order > 0 else "does not match"
    return Verdict(
        False,
        f"The orchestration version '{instance_version or ''}' {relation} the worker version '{worker or ''}'"
        f" (versionMatchStrategy {strategy}).",
    )


def settle_child_versions(children: list[ChildStart], settings: VersioningSettings) -> None:
    """Give every sub-orchestration started without a version the current ``defaultVersion``."""
    children[:] = [replace(c, version=version_for_new_instance(c.version, settings)) for c in children]
