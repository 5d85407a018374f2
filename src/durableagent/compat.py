"""Every private name of another package that durableagent uses, in one place.

Why: a private name can change in any release of its package. Keeping each use here, with what it
buys and where no public alternative exists, makes an upgrade a one-file review, and
``tests/unit/test_compat.py`` fails with a message naming the missing piece when an installed
version no longer has it. Nothing on a request's path calls into this module.

* ``azure.durable_functions.models.utils.http_utils._close_session``: the local host's shutdown
  closes the SDK's module-global aiohttp session (:func:`close_sdk_http_session`);
* ``azure.functions._abc.TraceContext`` / ``RetryContext``: the local host's ``func.Context``
  returns the worker's context types;
* ``azure.functions._durable_functions.df_loads``: thread-mode hosts consume its one-shot
  DeprecationWarning up front;
* ``re._parser`` / ``re._constants``: the ReDoS check reads a pattern's parse tree without running it.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from types import ModuleType
from typing import Any

_HTTP_UTILS = "azure.durable_functions.models.utils.http_utils"


def _http_utils() -> ModuleType | None:
    """The SDK's HTTP helper module, when the SDK was imported by the app (else nothing to do)."""
    return sys.modules.get(_HTTP_UTILS)


async def close_sdk_http_session() -> None:
    """Close the Durable SDK's module-global ``aiohttp.ClientSession`` (host shutdown).

    The SDK opens one session lazily for every ``DurableOrchestrationClient`` call and never closes
    it; the public API has no close. Without this, a stopping host logs "Unclosed client session".
    """
    module = _http_utils()
    if module is not None:
        await module._close_session()


def functions_context_bases() -> tuple[type[Any], type[Any]]:
    """``(TraceContext, RetryContext)``: the abstract bases azure.functions types ``Context`` with.

    ``func.Context.trace_context`` / ``retry_context`` are typed with these classes, which
    azure.functions does not export; the local host's context subclasses them so user code sees the
    worker's types.
    """
    abc = importlib.import_module("azure.functions._abc")
    return abc.TraceContext, abc.RetryContext


def consume_df_loads_notice() -> None:
    """Emit azure.functions' one-shot ``df_loads`` DeprecationWarning now, silenced.

    In a thread-mode host the entity code runs inside the test process, where
    ``filterwarnings = error`` would turn that advisory into an exception inside the first
    ``get_state()``/``get_input()``; under the real worker it is only a log line.
    """
    module = importlib.import_module("azure.functions._durable_functions")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module.df_loads("null")


def regex_parser() -> tuple[Any, Any]:
    """``(parser, constants)``: CPython's own regular-expression parser and its opcodes.

    The ReDoS check (``contract.regex_safety``) needs a pattern's parse tree, exactly as ``re``
    will compile it; the stdlib has no public parser (``sre_parse`` warns since 3.11).
    """
    new = sys.version_info >= (3, 11)
    parser = importlib.import_module("re._parser" if new else "sre_parse")
    constants = importlib.import_module("re._constants" if new else "sre_constants")
    return parser, constants
