r"""Index an app written in the ``function.json`` programming model, as Core Tools and the worker do.

Why: most existing Durable Functions apps (and the SDK's ``samples/``) are a folder per function:
``function.json`` (its bindings) and a Python file with an entry point. The Functions host lists
the folders (``HostFunctionMetadataProvider.ReadFunctionsMetadata``: every direct subfolder holding
a ``function.json``; the folder name is the function name and must match
``^[a-z][a-z0-9_\-]{0,127}$`` but not ``host``), picks the script (``scriptFile`` relative to the
folder, which must exist; without it the only file, else ``__init__.py``:
``DeterminePrimaryScriptFile``) and the worker imports it as a module of the ``__app__`` namespace
package (``loader.load_function``: ``__app__.<Folder>`` for ``__init__.py``, else
``__app__.<Folder>.<module>``; the entry point defaults to ``main``), then checks the function's
parameters against the bindings (``functions.Registry.add_function``). A function that fails any
of these steps is "in error" and not served; the others run.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from durableagent.local.indexing import AppIndex, FunctionError, IndexingError, index_functions
from durableagent.local.json_functions import FunctionJsonError, JsonBinding, JsonFunction
from durableagent.local.legacy_signature import SignatureError, check_signature

FUNCTION_JSON = "function.json"
NAMESPACE = "__app__"
DEFAULT_ENTRY_POINT = "main"
DEFAULT_SCRIPT = "__init__.py"
_VALID_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,127}$", re.IGNORECASE)


def function_dirs(app_dir: Path) -> list[Path]:
    """The direct subfolders of ``app_dir`` holding a ``function.json`` (sorted by name)."""
    if not app_dir.is_dir():
        return []
    return sorted(p for p in app_dir.iterdir() if p.is_dir() and (p / FUNCTION_JSON).is_file())


def _namespace(app_dir: Path, fresh: bool) -> ModuleType:
    """The ``__app__`` namespace package over ``app_dir`` (the worker's ``loader.install``)."""
    if fresh:
        for name in [m for m in sys.modules if m == NAMESPACE or m.startswith(NAMESPACE + ".")]:
            del sys.modules[name]
    existing = sys.modules.get(NAMESPACE)
    if existing is not None:
        return existing
    spec = importlib.machinery.ModuleSpec(NAMESPACE, None, is_package=True)
    spec.submodule_search_locations = [str(app_dir)]
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAMESPACE] = module
    return module


def _primary_script(folder: Path, script_file: Any) -> Path:
    if script_file is not None:
        if not isinstance(script_file, str) or not (folder / script_file).is_file():
            raise FunctionJsonError(
                "Invalid script file name configuration. The 'scriptFile' property is set to a file that"
                " does not exist."
            )
        return (folder / script_file).resolve()
    files = [p for p in folder.iterdir() if p.is_file() and p.name.lower() != FUNCTION_JSON]
    if len(files) == 1:
        return files[0].resolve()
    for p in files:
        if p.name.lower() == DEFAULT_SCRIPT or p.stem.lower() == "run":
            return p.resolve()
    raise FunctionJsonError(f"no script file: add {DEFAULT_SCRIPT} or set 'scriptFile' in {FUNCTION_JSON}")


def _module_name(app_dir: Path, script: Path) -> str:
    try:
        relative = script.relative_to(app_dir.resolve())
    except ValueError:
        raise FunctionJsonError(f"script path {script} is not inside the app directory") from None
    if relative.suffix != ".py":
        raise FunctionJsonError(f"invalid Python filename {relative}")
    parts = [NAMESPACE, *relative.parts[:-1]]
    if relative.stem.lower() != "__init__":
        parts.append(relative.stem)
    return ".".join(parts)


def load_function(app_dir: Path, folder: Path) -> JsonFunction:
    """Read one function folder and import its entry point (raises on any load error)."""
    name = folder.name
    if not _VALID_NAME.match(name) or name.lower() == "host":
        raise FunctionJsonError(f"'{name}' is not a valid function name.")
    try:
        doc = json.loads((folder / FUNCTION_JSON).read_text(encoding="utf-8-sig"))
    except ValueError:
        raise FunctionJsonError(f"{FUNCTION_JSON} is not valid JSON") from None
    if not isinstance(doc, dict):
        raise FunctionJsonError(f"{FUNCTION_JSON} must be a JSON object")
    raw_bindings = doc.get("bindings")
    if not isinstance(raw_bindings, list) or not raw_bindings:
        raise FunctionJsonError("At least one binding must be declared.")
    if not all(isinstance(b, dict) for b in raw_bindings):
        raise FunctionJsonError("every binding must be a JSON object")
    bindings = [JsonBinding(b) for b in raw_bindings]
    script = _primary_script(folder, doc.get("scriptFile"))
    module_name = _module_name(app_dir, script)
    entry_point = doc.get("entryPoint") or DEFAULT_ENTRY_POINT
    module = importlib.import_module(module_name)
    fn = getattr(module, str(entry_point), None)
    if fn is None or not callable(fn):
        relative = script.relative_to(app_dir.resolve())
        raise FunctionJsonError(f"function {entry_point}() is not present in {relative}")
    function = JsonFunction(name, bindings, fn, str(script))  # checks the trigger first, as the host does
    check_signature(name, fn, bindings)
    return function


def index_function_json_app(app_dir: Path, folders: list[Path]) -> AppIndex:
    """Load every folder; a folder that cannot be loaded becomes a :class:`FunctionError`."""
    app_dir = app_dir.resolve()
    namespace = _namespace(app_dir, fresh=True)
    root = str(app_dir)
    if root not in sys.path:
        sys.path.insert(0, root)
    functions: list[JsonFunction] = []
    errors: list[FunctionError] = []
    for folder in folders:
        try:
            functions.append(load_function(app_dir, folder))
        except (FunctionJsonError, SignatureError) as exc:
            errors.append(FunctionError(folder.name, str(exc)))
        except Exception as exc:  # noqa: BLE001 - the user's module failed to import: that function is in error
            errors.append(
                FunctionError(folder.name, f"the module could not be imported ({type(exc).__name__})")
            )
    if not functions and errors:
        first = errors[0]
        raise IndexingError(
            f"no function could be loaded; the '{first.name}' function is in error: {first.message}"
        )
    index = index_functions(namespace, None, app_dir, list(functions))
    index.errors[:0] = errors
    index.model = "function.json"
    return index
