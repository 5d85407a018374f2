"""Which HTTP model the app's functions are in: classic ``func.HttpRequest``, or FastAPI types.

Why: the choice is not per function. The Python worker serves *every* HTTP function of the app in
the FastAPI model as soon as a web extension is imported (``HttpV2FeatureChecker.http_v2_enabled``
in azurefunctions-extensions-base: any class made by ``ModuleTrackerMeta``, which
``azurefunctions.extensions.http.fastapi`` defines on import) and ``PYTHON_ENABLE_INIT_INDEXING``
is not false (Azure/azure-functions-python-worker ``http_v2.py`` ``HttpV2Registry``); the uvicorn
server the host forwards to is only started when the setting is true (``dispatcher.py``,
``_handle__worker_init_request``). A route registered in the other model fails to load there, so
``AgentFunctionApp`` checks the option against the process before it registers anything.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

EXTENSION_MODULE = "azurefunctions.extensions.http.fastapi"
BASE_MODULE = "azurefunctions.extensions.base"
INIT_INDEXING_SETTING = "PYTHON_ENABLE_INIT_INDEXING"
_TRUE_LIKE = frozenset({"1", "true", "t", "yes", "y"})  # the worker's utils.common.is_true_like

logger = logging.getLogger("durableagent.app")


def extension_active() -> bool:
    """True when a web extension (the FastAPI one) has been imported into this process."""
    base = sys.modules.get(BASE_MODULE)
    return base is not None and bool(base.HttpV2FeatureChecker.http_v2_enabled())


def init_indexing_enabled(environ: dict[str, str] | None = None) -> bool:
    """The app setting that makes the worker start the HTTP server of the FastAPI model."""
    value = (os.environ if environ is None else environ).get(INIT_INDEXING_SETTING, "")
    return value.strip().lower() in _TRUE_LIKE


def check(http_streaming: bool) -> None:
    """Load the extension for ``http_streaming``, or refuse a process it already switched.

    Raises:
        RuntimeError: the extension is missing (``http_streaming``), or it is imported while the
            app's routes would be classic functions (they would fail to load on Azure).
    """
    if not http_streaming:
        if extension_active():
            raise RuntimeError(
                f"{EXTENSION_MODULE} is imported, so every HTTP function of this app runs in the "
                "FastAPI model: pass AgentFunctionApp(..., http_streaming=True)"
            )
        return
    try:
        importlib.import_module(EXTENSION_MODULE)  # the import is what switches the worker
    except ImportError as exc:
        raise RuntimeError(
            "http_streaming=True needs the Azure Functions HTTP streams extension: "
            "pip install 'durableagent[http-streaming]' (azurefunctions-extensions-http-fastapi)"
        ) from exc
    if not init_indexing_enabled():
        logger.warning(
            "http_streaming=True needs the app setting %s=1 (local.settings.json Values, or the "
            "Function App's settings): without it the worker does not serve FastAPI-typed functions",
            INIT_INDEXING_SETTING,
        )
