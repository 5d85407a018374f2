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
    from durableagent.local.invoke import FunctionPlan


class BindingHook(Protocol):
    async def inputs(
        self, plan: FunctionPlan, inputs: Mapping[str, meta.Datum], trigger_metadata: Mapping[str, meta.Datum]
    ) -> Mapping[str, meta.Datum]:
        """The inputs with the function's host-resolved input bindings added."""

    async def outputs(self, plan: FunctionPlan, outs: Mapping[str, Any], result: Any) -> None:
        """Write the function's output bindings (``outs`` by parameter name, ``result`` its return value)."""
