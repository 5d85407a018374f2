"""The app's durable function names, and the extension's message for a name that is not one of them.

Why: the extension refuses to start an unknown orchestrator (400) and fails an orchestration that
schedules an unknown activity, sub-orchestrator or entity (``ThrowIfFunctionDoesNotExist``); both
use the same wording, which users see, so it is built in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Catalog:
    """Function names the app declares (compared case-insensitively, like the extension)."""

    activities: frozenset[str]
    orchestrators: frozenset[str]
    entities: frozenset[str]

    @classmethod
    def of(cls, activities: Sequence[str], orchestrators: Sequence[str], entities: Sequence[str]) -> Catalog:
        """Build from the durable names of the app's functions, lower-cased for lookups."""
        return cls(
            frozenset(n.lower() for n in activities),
            frozenset(n.lower() for n in orchestrators),
            frozenset(n.lower() for n in entities),
        )


class ActionRejected(Exception):
    """A new action the extension would refuse; the orchestration fails with ``message``."""

    def __init__(self, message: str) -> None:
        """Keep ``message``, the failure reason the orchestration ends with."""
        super().__init__(message)
        self.message = message


def unknown_function(name: str, kind: str, known: Iterable[str]) -> str:
    """``GetInvalid{Activity,Orchestrator,Entity}FunctionMessage``."""
    message = (
        f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function. Additional info: "
    )
    names = sorted(known)
    if names:
        joined = "', '".join(names)
        return message + f"The following are the known {kind} functions: '{joined}'."
    return message + f"No {kind} functions are currently registered!"
