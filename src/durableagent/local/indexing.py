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

HTTP_TRIGGER = "httpTrigger"
ENTITY_TRIGGER = "entityTrigger"
ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
DURABLE_CLIENT = "durableClient"
_PROVIDED_INPUTS = {HTTP_TRIGGER, ENTITY_TRIGGER, ORCHESTRATION_TRIGGER, ACTIVITY_TRIGGER, DURABLE_CLIENT}


class IndexingError(RuntimeError):
    """The script cannot be imported or does not define exactly one function app."""


@dataclass(frozen=True)
class HttpFunction:
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
    name: str
    trigger_type: str


@dataclass
class AppIndex:
    module: ModuleType
    app: Any  # the FunctionRegister
    script_path: Path
    functions: list[Any]
    http: list[HttpFunction] = field(default_factory=list)
    entities: dict[str, DurableFunction] = field(default_factory=dict)  # key: lower-cased entity name
    orchestrators: dict[str, DurableFunction] = field(default_factory=dict)  # key: lower-cased name
    activities: dict[str, DurableFunction] = field(default_factory=dict)  # key: lower-cased name
    listeners: list[ListenerFunction] = field(default_factory=list)
    skipped: list[SkippedFunction] = field(default_factory=list)
    missing_inputs: list[tuple[str, str, str]] = field(default_factory=list)  # (function, binding, type)


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


def index_app(module: ModuleType) -> AppIndex:
    """Build the index; calls ``get_functions()`` once."""
    app = find_app(module)
    functions = app.get_functions()
    index = AppIndex(module=module, app=app, script_path=Path(str(module.__file__)), functions=functions)
    for fn in functions:
        name = fn.get_function_name()
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
            btype = str(binding.type)
            if is_input(binding) and btype not in _PROVIDED_INPUTS:
                index.missing_inputs.append((name, binding.name, btype))
    return index
