"""Import the app script and index its functions, exactly once.

Why: the Python worker finds the app as the single ``azure.functions.FunctionRegister`` attribute of
the script module and calls ``get_functions()`` on it. That call is not idempotent (a second call
raises "does not have a unique function name"), so the local host calls it here, once, and every
other module works from the resulting :class:`AppIndex`.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
from azure.functions.decorators.core import BindingDirection

from durableagent.local import setting_refs
from durableagent.local.bindings_support import runs_locally

HTTP_TRIGGER = "httpTrigger"
ENTITY_TRIGGER = "entityTrigger"
ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
DURABLE_CLIENT = "durableClient"


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


def import_script(app_dir: Path, script: str, *, fresh: bool = False) -> ModuleType:
    """Import ``app_dir/script`` under its stem name with ``app_dir`` first on ``sys.path``."""
    path = (app_dir / script).resolve()
    if not path.is_file():
        raise IndexingError(f"script not found: {path}")
    root = str(app_dir.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and not fresh and getattr(existing, "__file__", None) == str(path):
        return existing
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise IndexingError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def find_app(module: ModuleType) -> Any:
    """The one ``FunctionRegister`` (``FunctionApp``, ``DFApp``...) at module level, else IndexingError."""
    apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
    if len(apps) != 1:
        where = getattr(module, "__file__", module.__name__)
        raise IndexingError(
            f"{where}: expected exactly one azure.functions.FunctionRegister "
            f"(FunctionApp/DFApp) at module level, found {len(apps)}"
        )
    return apps[0]


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


def index_app(module: ModuleType) -> AppIndex:
    """Build the index of a decorator app; calls ``get_functions()`` once."""
    app = find_app(module)
    return index_functions(module, app, Path(str(module.__file__)), app.get_functions())


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
