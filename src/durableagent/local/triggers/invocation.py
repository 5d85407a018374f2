"""Invoke a listener-triggered function (timer, queue, blob) the way the host does for any trigger.

Why: every listener hands the function its trigger datum plus the trigger metadata (the binding data
the worker decodes ``QueueMessage``/``InputStream`` properties from), and any ``durableClient`` binding
of the function gets this host's client binding, so a timer or queue function can start orchestrations
as on Azure. Input and output bindings are resolved inside the invoker (``storage_bindings``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from azure.functions import meta

from durableagent.local.indexing import DURABLE_CLIENT

if TYPE_CHECKING:
    from durableagent.local.host_context import HostContext

log = logging.getLogger("durableagent.local.triggers")


class Props(dict[str, Any]):
    """Binding properties looked up case-insensitively (``function.json`` names are, for the host)."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        """Copy ``doc`` with lower-cased keys."""
        super().__init__((str(k).lower(), v) for k, v in doc.items())

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (any case), or ``default``."""
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> Any:
        """The value of ``key`` in any case; KeyError if absent."""
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` (a string, any case) is present."""
        return isinstance(key, str) and super().__contains__(key.lower())


def binding_props(binding: Any) -> Props:
    """A binding's ``function.json`` properties (from a decorator binding, a function.json one, a dict)."""
    if isinstance(binding, Mapping):
        return Props(binding)
    to_dict = getattr(binding, "get_dict_repr", None)
    if callable(to_dict):
        return Props(to_dict())
    return Props(vars(binding))


def drop_missing_inputs(ctx: HostContext, served: set[tuple[str, str]]) -> None:
    """Take ``(function, binding)`` inputs this package provides off the banner's "not provided" list."""
    missing = getattr(ctx.index, "missing_inputs", None)  # (function, binding, type) triples
    if missing is not None:
        missing[:] = [m for m in missing if (m[0], m[1]) not in served]


def flag(value: Any, default: bool) -> bool:
    """A boolean binding property (``true``/``"true"``), or the default when it is not set."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


async def invoke_triggered(
    ctx: HostContext,
    function: Any,
    trigger: meta.Datum,
    trigger_metadata: Mapping[str, meta.Datum] | None = None,
) -> None:
    """Invoke ``function`` with its trigger datum; exceptions from the function propagate."""
    inputs = {function.get_trigger().name: trigger}
    for binding in function.get_bindings():
        if str(binding.type) == DURABLE_CLIENT:
            props = binding_props(binding)
            inputs[binding.name] = meta.Datum(
                ctx.client_binding_json(props.get("taskHub"), props.get("connectionName")), "string"
            )
    plan = ctx.plans[function.get_function_name()]
    await ctx.invoker.invoke(plan, inputs, trigger_metadata=trigger_metadata)
