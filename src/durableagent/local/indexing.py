"""Index the app's functions and work out how to call each one, once per host start.

Why: the Python worker calls ``get_functions()`` on the app once (``app_loading`` imports the
script and finds the app) and works from what it returned; so does every module of the local host,
from the resulting :class:`AppIndex`. How to call a function (its converters, ``func.Out``
parameters, result encoding) is worked out here too, at startup, into a :class:`FunctionPlan`
that ``invoke.Invoker`` runs on every call.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from azure.functions import meta
from azure.functions.decorators.core import BindingDirection

from durableagent.local import setting_refs
from durableagent.local.bindings_support import runs_locally

HTTP_TRIGGER = "httpTrigger"
ENTITY_TRIGGER = "entityTrigger"
ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
DURABLE_CLIENT = "durableClient"
CONVERTERS: Any = meta.get_binding_registry()  # type: ignore[no-untyped-call]
"""The azure-functions converters by binding type, as the worker decodes and encodes with them."""
_GENERIC_TYPES = (str, bytes)


class IndexingError(RuntimeError):
    """The script cannot be imported or does not define exactly one function app."""


@dataclass(frozen=True)
class HttpFunction:
    """An HTTP-triggered function: its route template, methods and auth level."""

    name: str
    route: str
    methods: tuple[str, ...] | None  # None: every method
    auth_level: str  # "anonymous" | "function" | "admin"
    function: Any  # azure.functions.Function


@dataclass(frozen=True)
class DurableFunction:
    """An entity, orchestrator or activity; ``durable_name`` is the name the Durable API uses."""

    name: str
    durable_name: str
    trigger_type: str
    function: Any


# Run by listeners of durableagent.local.triggers (when installed).
TIMER_TRIGGER = "timerTrigger"
QUEUE_TRIGGER = "queueTrigger"
BLOB_TRIGGER = "blobTrigger"
LISTENER_TRIGGERS = (TIMER_TRIGGER, QUEUE_TRIGGER, BLOB_TRIGGER)


@dataclass(frozen=True)
class ListenerFunction:
    """A timer, queue or blob triggered function (a listener of ``local/triggers`` runs it)."""

    name: str
    trigger_type: str
    function: Any


@dataclass(frozen=True)
class SkippedFunction:
    """A function whose trigger the host has no engine for: listed at startup, never run."""

    name: str
    trigger_type: str


@dataclass(frozen=True)
class UnsupportedBinding:
    """A binding of a served function that the host cannot run (the function answers 501)."""

    function: str
    binding: str
    type: str
    direction: str  # "in" | "out" | "inout"


@dataclass(frozen=True)
class FunctionError:
    """A function the host could not load ("The 'X' function is in error: ..."); it is not served."""

    name: str
    message: str


@dataclass
class AppIndex:
    """Everything indexing found in the app, by kind; built once per host start."""

    module: ModuleType
    app: Any  # the FunctionRegister (None for a function.json app)
    script_path: Path
    functions: list[Any]
    http: list[HttpFunction] = field(default_factory=list)
    entities: dict[str, DurableFunction] = field(default_factory=dict)  # key: lower-cased entity name
    orchestrators: dict[str, DurableFunction] = field(default_factory=dict)  # key: lower-cased name
    activities: dict[str, DurableFunction] = field(default_factory=dict)  # key: lower-cased name
    listeners: list[ListenerFunction] = field(default_factory=list)
    skipped: list[SkippedFunction] = field(default_factory=list)
    unsupported: list[UnsupportedBinding] = field(default_factory=list)
    errors: list[FunctionError] = field(default_factory=list)
    model: str = "decorators"  # "decorators" (function_app.py) | "function.json"


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


def is_input(binding: Any) -> bool:
    """True for IN and INOUT bindings (``Binding.direction`` is the enum's int value)."""
    return int(binding.direction) in (BindingDirection.IN.value, BindingDirection.INOUT.value)


def _trigger_type(trigger: Any) -> str:
    return str(getattr(trigger, "type", None) or trigger.get_binding_name())


def _direction(binding: Any) -> str:
    return {BindingDirection.IN.value: "in", BindingDirection.OUT.value: "out"}.get(
        int(binding.direction), "inout"
    )


# HTTP routing properties are not app-setting expressions (a route may hold a literal '%').
_NOT_RESOLVED = {"name", "type", "route", "methods", "auth_level"}


def resolve_binding_settings(binding: Any) -> None:
    """Resolve ``%NAME%`` in the binding's string properties in place (setting_refs)."""
    for attr, value in list(vars(binding).items()):
        if attr.startswith("_") or attr in _NOT_RESOLVED or not isinstance(value, str) or "%" not in value:
            continue
        setattr(binding, attr, setting_refs.resolve_tokens(value))


def index_functions(module: ModuleType, app: Any, script_path: Path, functions: list[Any]) -> AppIndex:
    """Classify ``functions`` (decorator ``Function`` objects or their function.json equivalents)."""
    index = AppIndex(module=module, app=app, script_path=script_path, functions=[])
    for fn in functions:
        name = fn.get_function_name()
        try:
            for binding in fn.get_bindings():
                resolve_binding_settings(binding)
        except setting_refs.UnresolvedSetting as exc:
            index.errors.append(FunctionError(name, str(exc)))
            continue
        index.functions.append(fn)
        trigger = fn.get_trigger()
        ttype = _trigger_type(trigger)
        if ttype == HTTP_TRIGGER:
            methods = getattr(trigger, "methods", None)
            index.http.append(
                HttpFunction(
                    name=name,
                    route=str(getattr(trigger, "route", None) or name),
                    methods=tuple(_enum_value(m).upper() for m in methods) if methods else None,
                    auth_level=_enum_value(getattr(trigger, "auth_level", None) or "function").lower(),
                    function=fn,
                )
            )
        elif ttype == ENTITY_TRIGGER:
            durable = getattr(trigger, "entity_name", None) or name
            index.entities[durable.lower()] = DurableFunction(name, durable, ttype, fn)
        elif ttype == ORCHESTRATION_TRIGGER:
            durable = getattr(trigger, "orchestration", None) or name
            index.orchestrators[durable.lower()] = DurableFunction(name, durable, ttype, fn)
        elif ttype == ACTIVITY_TRIGGER:
            durable = getattr(trigger, "activity", None) or name
            index.activities[durable.lower()] = DurableFunction(name, durable, ttype, fn)
        elif ttype in LISTENER_TRIGGERS:
            index.listeners.append(ListenerFunction(name, ttype, fn))
        else:
            index.skipped.append(SkippedFunction(name, ttype))
            continue
        for binding in fn.get_bindings():
            if binding is not trigger and not runs_locally(str(binding.type)):
                index.unsupported.append(
                    UnsupportedBinding(name, binding.name, str(binding.type), _direction(binding))
                )
    return index


@dataclass(frozen=True)
class _Input:
    param: str
    binding: str
    converter: Any  # None: generic pass-through of datum.value


@dataclass(frozen=True)
class FunctionPlan:
    """How to call one function; built once at startup."""

    name: str
    fn: Any
    is_async: bool
    inputs: tuple[_Input, ...]
    outs: tuple[tuple[str, str], ...]  # (param, binding type) for func.Out parameters
    wants_context: bool
    return_converter: Any  # encodes the result ($return binding or an implicit-output trigger)
    return_type: Any


def plan_function(function: Any) -> FunctionPlan:
    """Work out once how to call ``function`` as the worker would: converters, Out params, result."""
    fn = function.get_user_function()
    name = function.get_function_name()
    sig = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable annotations: the worker falls back the same way
        hints = dict(getattr(fn, "__annotations__", {}))
    bindings = function.get_bindings()
    by_name = {b.name: b for b in bindings}
    inputs: list[_Input] = []
    outs: list[tuple[str, str]] = []
    for param in sig.parameters:
        binding = by_name.get(param)
        if binding is None:
            continue
        conv = CONVERTERS.get(binding.type)
        if is_input(binding):
            pytype = hints.get(param)
            implicit = conv is not None and conv.has_implicit_output()
            generic = conv is None or (pytype in _GENERIC_TYPES and not implicit)
            inputs.append(_Input(param, binding.name, None if generic else conv))
        else:
            outs.append((param, str(binding.type)))
    ret_conv = None
    ret = by_name.get("$return")
    trigger = function.get_trigger()
    if ret is not None:
        ret_conv = CONVERTERS.get(ret.type)
    else:
        tconv = CONVERTERS.get(trigger.type) if trigger is not None else None
        if tconv is not None and tconv.has_implicit_output():
            ret_conv = tconv
    return FunctionPlan(
        name=name,
        fn=fn,
        is_async=inspect.iscoroutinefunction(fn),
        inputs=tuple(inputs),
        outs=tuple(outs),
        wants_context="context" in sig.parameters and "context" not in by_name,
        return_converter=ret_conv,
        return_type=hints.get("return"),
    )
