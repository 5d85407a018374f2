"""The ``func.Context`` handed to functions that declare a ``context`` parameter.

Why: user code and the Durable SDK read it (``df_client_middleware`` sends ``invocation_id`` as
``X-Azure-Functions-InvocationId``; logging helpers use ``thread_local_storage``), so it carries
what the Python worker's ``Context`` carries: invocation id, function name and directory, trace
context and a (never retried) retry context.
"""

from __future__ import annotations

import threading
from typing import Any

import azure.functions as func
from azure.functions import _abc as azf_abc


class TraceContext(azf_abc.TraceContext):
    def __init__(self, trace_parent: str, trace_state: str, attributes: dict[str, str]) -> None:
        self._parent, self._state, self._attributes = trace_parent, trace_state, attributes

    @property
    def trace_state(self) -> str:
        return self._state

    @property
    def trace_parent(self) -> str:
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        return self._attributes


class _RetryContext(azf_abc.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class InvocationContext(func.Context):
    """The ``context: func.Context`` a function receives (worker ``Context`` equivalent)."""

    def __init__(self, invocation_id: str, function_name: str, function_directory: str, trace: TraceContext):
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace = trace
        self._tls = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._tls

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        return self._trace

    @property
    def retry_context(self) -> _RetryContext:
        return _RetryContext()
