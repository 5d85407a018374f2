"""Find which programming model an app directory uses, import it and index it (once per host start).

Why: Core Tools and the Python worker run either the decorator model (``function_app.py``, or
``PYTHON_SCRIPT_FILE_NAME``, indexed by the worker) or the ``function.json`` model (folders
indexed by the host) — the worker answers ``use_default_metadata_indexing`` when the script does
not exist (``dispatcher._handle__functions_metadata_request``). When both are present the real
host indexes only the script and logs "Detected mixed function app. Some functions may not be
indexed - <folders>" (``WorkerFunctionMetadataProvider.ValidateFunctionAppFormat``); the local
host refuses to start with that message instead, so no function is silently left out.

The worker finds a decorator app as the single ``azure.functions.FunctionRegister`` attribute of
the script module and calls ``get_functions()`` on it. That call is not idempotent (a second call
raises "does not have a unique function name"), so the local host calls it here, once
(:func:`index_app`), and every other module works from the resulting ``indexing.AppIndex``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func

from durableagent.local.function_json import FUNCTION_JSON, function_dirs, index_function_json_app
from durableagent.local.indexing import AppIndex, IndexingError, index_functions


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


def index_app(module: ModuleType) -> AppIndex:
    """Build the index of a decorator app; calls ``get_functions()`` once."""
    app = find_app(module)
    return index_functions(module, app, Path(str(module.__file__)), app.get_functions())


def mixed_app_message(script: Path, folders: list[Path]) -> str:
    """Why the host refuses an app with both a decorator script and function.json folders."""
    names = ", ".join(f.name for f in folders)
    return (
        f"Detected mixed function app. Some functions may not be indexed - {names}. "
        f"{script.name} (decorators) and folders with {FUNCTION_JSON} cannot be combined: "
        f"move those functions into {script.name} or remove {script.name}."
    )


def load_app_index(app_dir: Path, script: str) -> AppIndex:
    """Index the app in ``app_dir``: the decorator script if it exists, else its function folders."""
    folders = function_dirs(app_dir)
    script_path = (app_dir / script).resolve()
    if script_path.is_file():
        if folders:
            raise IndexingError(mixed_app_message(script_path, folders))
        # Always a fresh module: get_functions() may run only once per app object.
        return index_app(import_script(app_dir, script, fresh=True))
    if folders:
        return index_function_json_app(app_dir, folders)
    raise IndexingError(f"script not found: {script_path} (and no folder with a {FUNCTION_JSON})")
