"""The invoker's hook for bindings the host resolves around a call (storage inputs and outputs).

Why: input bindings (a blob, a table entity) must be read before the function runs and output
bindings (``func.Out`` values, a ``$return`` queue message) written after it, for every trigger the
host runs (HTTP, timer, queue, blob, activity). The invoker calls one object that implements this
protocol; ``durableagent.local.triggers`` installs it when storage bindings are in use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from azure.functions import meta

if TYPE_CHECKING:
    from durableagent.local.indexing import FunctionPlan


class BoundCall(Protocol):
    """One invocation's host-resolved bindings."""

    @property
    def inputs(self) -> Mapping[str, meta.Datum]:
        """The invocation's inputs with its input bindings (blob contents, table entities) added."""

    async def write_outputs(self, outs: Mapping[str, Any], result: Any) -> None:
        """Write the output bindings (``outs`` by parameter name, ``result`` the return value)."""


class BindingHook(Protocol):
    """The invoker's hook: resolves a function's host-side bindings around one call."""

    async def prepare(
        self, plan: FunctionPlan, inputs: Mapping[str, meta.Datum], trigger_metadata: Mapping[str, meta.Datum]
    ) -> BoundCall | None:
        """The call's bindings, or None when the function has none that the hook resolves."""
