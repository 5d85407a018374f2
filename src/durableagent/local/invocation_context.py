"""The ``context: func.Context`` a function receives on the local host, as the Python worker builds it.

Why apart from ``invoke.py``: these are the worker's data types (invocation id, trace context,
retry context, thread-local storage), read by user code and the Durable SDK; calling functions is
another concern.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

import azure.functions as func

from durableagent.compat import functions_context_bases

_TraceBase, _RetryBase = functions_context_bases()


class TraceContext(_TraceBase):  # type: ignore[misc, valid-type]
    """The W3C trace context of one invocation (``context.trace_context``)."""

    def __init__(self, trace_parent: str | None, trace_state: str, attributes: dict[str, str]) -> None:
        """Hold the ``traceparent``/``tracestate`` values the request carried (None: made on first read)."""
        self._parent, self._state, self._attributes = trace_parent, trace_state, attributes

    @property
    def trace_state(self) -> str:
        """The ``tracestate`` header."""
        return self._state

    @property
    def trace_parent(self) -> str:
        """The ``traceparent`` header (a new W3C trace id when the request carried none)."""
        if self._parent is None:
            self._parent = _trace_parent()
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        """Extra attributes (none)."""
        return self._attributes


class _RetryContext(_RetryBase):  # type: ignore[misc, valid-type]
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
    """The ``context: func.Context`` a function receives (the Python worker's ``Context``).

    User code and the Durable SDK read it (``df_client_middleware`` sends ``invocation_id`` as
    ``X-Azure-Functions-InvocationId``; logging helpers use ``thread_local_storage``).
    """

    def __init__(self, invocation_id: str, function_name: str, function_directory: str, trace: TraceContext):
        """One invocation's context."""
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace = trace
        self._tls = threading.local()

    @property
    def invocation_id(self) -> str:
        """The invocation's id."""
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        """Per-invocation thread-local storage."""
        return self._tls

    @property
    def function_name(self) -> str:
        """The function's name."""
        return self._function_name

    @property
    def function_directory(self) -> str:
        """The app's directory."""
        return self._function_directory

    @property
    def trace_context(self) -> TraceContext:
        """The trace context."""
        return self._trace

    @property
    def retry_context(self) -> _RetryContext:
        """The retry context (the local host never retries an HTTP invocation)."""
        return _RetryContext()


def _trace_parent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
