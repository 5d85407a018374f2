"""Check a function.json function's Python signature against its bindings, as the worker does.

Why: the Python worker refuses to load a legacy-model function whose parameters and bindings do
not match (``azure_functions_worker.functions.Registry.add_function``), with messages users search
for; the local host reports the same mismatches at startup instead of failing at the first call.
Reproduced: ``inout`` bindings are refused, ``$return`` must be ``out``, a free ``context``
parameter must be ``azure.functions.Context``, every parameter needs a binding and every binding
(except ``$return``) a parameter, and ``func.Out[...]`` annotations go with ``out`` bindings only.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any

from azure.functions.decorators.core import BindingDirection

from durableagent.local.json_functions import JsonBinding

RETURN = "$return"


class SignatureError(ValueError):
    """``cannot load the <name> function: <why>`` (the worker's ``FunctionLoadError``)."""

    def __init__(self, function_name: str, message: str) -> None:
        """Word the error as the worker does: ``cannot load the <name> function: <message>``."""
        super().__init__(f"cannot load the {function_name} function: {message}")


def _is_out(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and origin.__name__ == "Out"


def check_signature(name: str, fn: Callable[..., Any], bindings: Sequence[JsonBinding]) -> None:
    """Raise :class:`SignatureError` where the worker would refuse ``fn`` for ``bindings``."""
    params = dict(inspect.signature(fn).parameters)
    try:
        annotations = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable annotations: checked as unannotated
        annotations = {}
    bound: dict[str, JsonBinding] = {}
    for binding in bindings:
        if binding.direction == BindingDirection.INOUT.value:
            raise SignatureError(name, '"inout" bindings are not supported')
        if binding.name == RETURN:
            if binding.direction != BindingDirection.OUT.value:
                raise SignatureError(name, '"$return" binding must have direction set to "out"')
            continue
        bound[binding.name] = binding
    if "context" in params and "context" not in bound:
        params.pop("context")
        anno = annotations.get("context")
        if anno is not None and (not isinstance(anno, type) or anno.__name__ != "Context"):
            raise SignatureError(
                name,
                f'the "context" parameter is expected to be of type azure.functions.Context, got {anno!r}',
            )
    missing = set(params) - set(bound)
    if missing:
        raise SignatureError(
            name, f"the following parameters are declared in Python but not in function.json: {missing!r}"
        )
    extra = set(bound) - set(params)
    if extra:
        raise SignatureError(
            name, f"the following parameters are declared in function.json but not in Python: {extra!r}"
        )
    for param, binding in bound.items():
        out_binding = binding.direction == BindingDirection.OUT.value
        anno = annotations.get(param)
        if anno is None:
            continue
        if out_binding and not _is_out(anno):
            raise SignatureError(
                name,
                f'binding {param} is declared to have the "out" direction, but its annotation in Python is'
                " not a subclass of azure.functions.Out",
            )
        if not out_binding and _is_out(anno):
            raise SignatureError(
                name,
                f'binding {param} is declared to have the "in" direction in function.json, but its annotation'
                " is azure.functions.Out in Python",
            )
