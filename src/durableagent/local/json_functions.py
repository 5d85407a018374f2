"""Functions declared in ``function.json``, shaped like the decorators' ``Function`` objects.

Why: the rest of the host (indexing, planning, invocation, engines) works from
``azure.functions.decorators.function_app.Function``: ``get_function_name()``, ``get_trigger()``,
``get_bindings()``, ``get_user_function()``. A function.json function offers the same methods, and
each of its bindings the attributes a decorator binding has: ``name``, ``type``, ``direction``
(the ``BindingDirection`` value), ``data_type``, and every other property under its snake_case
name (``queueName`` -> ``queue_name``, ``taskHub`` -> ``task_hub``, ``authLevel`` -> ``auth_level``),
so code reading a decorator binding reads a function.json binding unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from azure.functions.decorators.core import BindingDirection, DataType

_DIRECTIONS = {"in": BindingDirection.IN, "out": BindingDirection.OUT, "inout": BindingDirection.INOUT}
_DATA_TYPES = {d.name.lower(): d for d in DataType}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
# The 1.x name of the durable client binding (the extension's OrchestrationClientAttribute derives
# from DurableClientAttribute): the worker and the SDK treat both alike.
_ALIASES = {"orchestrationclient": "durableClient"}


class FunctionJsonError(ValueError):
    """``function.json`` is not a valid function definition (the message says why)."""


def snake_case(name: str) -> str:
    """``queueName`` -> ``queue_name``: the attribute name a decorator binding uses for a property."""
    return _CAMEL.sub("_", name).lower()


class JsonBinding:
    """One entry of ``function.json`` ``bindings``."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        """Read one binding object; property names are matched ignoring case, as the host does.

        Raises:
            FunctionJsonError: ``name``, ``type`` or a ``direction`` of in/out/inout is missing.
        """
        # function.json property names are case-insensitive (the host reads them into a JObject
        # and BindingMetadata with ignore-case lookups: "dataType" and "datatype" both occur).
        lowered = {str(k).lower(): v for k, v in doc.items()}
        name, btype, direction = lowered.get("name"), lowered.get("type"), lowered.get("direction")
        if not isinstance(name, str) or not name:
            raise FunctionJsonError("every binding needs a 'name'")
        if not isinstance(btype, str) or not btype:
            raise FunctionJsonError(f"binding '{name}' needs a 'type'")
        if not isinstance(direction, str) or direction.lower() not in _DIRECTIONS:
            raise FunctionJsonError(f"binding '{name}' needs a 'direction' of in, out or inout")
        self.raw = dict(doc)
        self.name = name
        self.type = _ALIASES.get(btype.lower(), btype)
        self._direction = _DIRECTIONS[direction.lower()]
        data_type = lowered.get("datatype")
        self._data_type = _DATA_TYPES.get(data_type.lower()) if isinstance(data_type, str) else None
        for key, value in doc.items():
            if str(key).lower() not in ("name", "type", "direction", "datatype"):
                setattr(self, snake_case(str(key)), value)

    @property
    def direction(self) -> int:
        """The ``BindingDirection`` value (0 in, 1 out, 2 inout), as a decorator binding gives it."""
        return int(self._direction.value)

    @property
    def data_type(self) -> int | None:
        """The ``DataType`` value of ``dataType`` (any case), or None when absent or unknown."""
        return self._data_type.value if self._data_type is not None else None

    @property
    def is_trigger(self) -> bool:
        """Whether this binding is the function's trigger (its type ends with ``trigger``)."""
        # The host: BindingMetadata.IsTrigger is "type ends with 'trigger'" (ordinal, ignore case).
        return self.type.lower().endswith("trigger")

    def get_dict_repr(self) -> dict[str, Any]:
        """A copy of the binding object as written in ``function.json`` (original key case)."""
        return dict(self.raw)

    def __repr__(self) -> str:
        """``JsonBinding(type, name)``: enough to tell bindings apart in logs and test failures."""
        return f"JsonBinding({self.type!r}, {self.name!r})"


class JsonFunction:
    """One function folder: its name (the folder's), its bindings and its entry point."""

    def __init__(
        self, name: str, bindings: Sequence[JsonBinding], user_function: Callable[..., Any], script_file: str
    ) -> None:
        """Hold one function folder's definition; ``script_file`` is the resolved entry script.

        Raises:
            FunctionJsonError: the bindings have no trigger, or more than one (the host's messages).
        """
        triggers = [b for b in bindings if b.is_trigger]
        if not triggers:
            raise FunctionJsonError(
                "No trigger binding specified. A function must have a trigger input binding."
            )
        if len(triggers) > 1:
            raise FunctionJsonError("Multiple trigger bindings are not supported.")
        self._name = name
        self._bindings = list(bindings)
        self._trigger = triggers[0]
        self._fn = user_function
        self.function_script_file = script_file

    def get_function_name(self) -> str:
        """The function's name: its folder's name."""
        return self._name

    def get_trigger(self) -> JsonBinding:
        """The one binding whose type ends with ``trigger``."""
        return self._trigger

    def get_bindings(self) -> list[JsonBinding]:
        """Every binding, the trigger included, in ``function.json`` order."""
        return self._bindings

    def get_user_function(self) -> Callable[..., Any]:
        """The callable the entry point names (``scriptFile`` and ``entryPoint``)."""
        return self._fn

    def get_raw_bindings(self) -> list[str]:
        """Each binding as a JSON string, the form the decorators' ``Function.get_raw_bindings`` returns."""
        import json

        return [json.dumps(b.get_dict_repr()) for b in self._bindings]

    def __repr__(self) -> str:
        """``JsonFunction(name)``, for logs and test failures."""
        return f"JsonFunction({self._name!r})"
