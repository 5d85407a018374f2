"""Find which programming model an app directory uses and index it (once per host start).

Why: Core Tools and the Python worker run either the decorator model (``function_app.py``, or
``PYTHON_SCRIPT_FILE_NAME``, indexed by the worker) or the ``function.json`` model (folders
indexed by the host) — the worker answers ``use_default_metadata_indexing`` when the script does
not exist (``dispatcher._handle__functions_metadata_request``). When both are present the real
host indexes only the script and logs "Detected mixed function app. Some functions may not be
indexed - <folders>" (``WorkerFunctionMetadataProvider.ValidateFunctionAppFormat``); the local
host refuses to start with that message instead, so no function is silently left out.
"""

from __future__ import annotations

from pathlib import Path

from durableagent.local.function_json import FUNCTION_JSON, function_dirs, index_function_json_app
from durableagent.local.indexing import AppIndex, IndexingError, import_script, index_app


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
