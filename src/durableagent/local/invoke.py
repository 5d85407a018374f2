"""Invoke a function the way the Python worker does: azure-functions converters, Context, one loop.

Why: user code (and the Durable SDK's decorators wrapped around it) only behave as on Azure if
arguments are decoded and results encoded by ``azure.functions.meta.get_binding_registry()`` just
as the worker does (protocol.md §3): ``str``/``bytes`` parameters get the raw datum (that is how
the durableClient parameter receives its JSON), a free ``context`` parameter gets a
``func.Context``, async functions are awaited on the host's single event loop (the Durable SDK
keeps a module-global aiohttp session bound to it), and sync functions run in a thread pool.

The ``context`` is the worker's ``Context`` (:class:`InvocationContext`: invocation id, trace
context, retry context, thread-local storage), read by user code and the Durable SDK.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import threading
import typing
import uuid
from collections.abc import Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import azure.functions as func
from azure.functions import meta

from durableagent.compat import functions_context_bases
from durableagent.local.binding_hooks import BindingHook
from durableagent.local.http_io import StreamedBody, streamed_body
from durableagent.local.indexing import CONVERTERS, FunctionPlan


class _Out(func.Out[Any]):
    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


def new_invocation_id() -> str:
    """A fresh invocation id: a random UUID string, as the Functions host gives each call."""
    return str(uuid.uuid4())


class Invoker:
    """Runs function plans: async ones on the running loop, sync ones in a worker thread pool."""

    def __init__(self, function_directory: str, max_workers: int | None = None) -> None:
        """Pool size: ``PYTHON_THREADPOOL_THREAD_COUNT`` if set, else min(32, CPUs + 4)."""
        if max_workers is None:
            configured = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "")
            max_workers = int(configured) if configured.isdigit() and int(configured) > 0 else None
        self.function_directory = function_directory
        self.bindings: BindingHook | None = None  # storage input/output bindings (local/triggers)
        self.executor = ThreadPoolExecutor(
            max_workers=max_workers or min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="fn"
        )

    async def invoke(
        self,
        plan: FunctionPlan,
        inputs: Mapping[str, meta.Datum],
        **options: Any,
    ) -> meta.Datum | None:
        """:meth:`invoke_response` for functions whose result is never streamed (triggers, entities).

        Raises:
            TypeError: the function returned a streamed response.
        """
        result = await self.invoke_response(plan, inputs, **options)
        if isinstance(result, StreamedBody):
            raise TypeError(f"function {plan.name} returned a streamed response where none is possible")
        return result

    async def invoke_response(
        self,
        plan: FunctionPlan,
        inputs: Mapping[str, meta.Datum],
        *,
        invocation_id: str | None = None,
        trace_parent: str | None = None,
        trace_state: str = "",
        trigger_metadata: Mapping[str, meta.Datum] | None = None,
        executor: Executor | None = None,
    ) -> meta.Datum | StreamedBody | None:
        """Call the function; returns the encoded result datum (None when there is none).

        A sync function runs on ``executor`` (default: the pool of this invoker). A response that
        streams (``http_io.streamed_body``) is returned as a :class:`StreamedBody`.

        Exceptions from the function (or from decoding/encoding) propagate: an invocation failure.
        """
        result, outs = await self.call(
            plan, inputs, invocation_id, trace_parent, trace_state, trigger_metadata or {}, executor=executor
        )
        streamed = streamed_body(result)
        if streamed is not None:
            return streamed
        if plan.return_converter is not None:
            return typing.cast(
                meta.Datum, plan.return_converter.encode(result, expected_type=plan.return_type)
            )
        for param, btype in plan.outs:
            conv = CONVERTERS.get(btype)
            if btype == "http" and conv is not None and outs[param] is not None:
                return typing.cast(meta.Datum, conv.encode(outs[param], expected_type=None))
        return None

    async def call(
        self,
        plan: FunctionPlan,
        inputs: Mapping[str, meta.Datum],
        invocation_id: str | None,
        trace_parent: str | None = None,
        trace_state: str = "",
        metadata: Mapping[str, meta.Datum] | None = None,
        overrides: Mapping[str, Any] | None = None,
        executor: Executor | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Call the function: its raw result and the values its ``func.Out`` parameters were set to.

        ``overrides`` are arguments by parameter name passed as they are, not decoded from
        ``inputs`` (the HTTP streams model's request: ``local/http_v2.py``); a sync function runs
        on ``executor`` (default: this invoker's pool).
        """
        inv_id = invocation_id or new_invocation_id()
        metadata = metadata or {}
        bound = None if self.bindings is None else await self.bindings.prepare(plan, inputs, metadata)
        if bound is not None:
            inputs = bound.inputs
        kwargs: dict[str, Any] = dict(overrides or {})
        for item in plan.inputs:
            datum = inputs.get(item.binding)
            if item.param in kwargs:
                continue
            if item.converter is None:
                kwargs[item.param] = None if datum is None else datum.value
            else:
                kwargs[item.param] = item.converter.decode(datum, trigger_metadata=metadata)
        outs: dict[str, _Out] = {}
        for param, _btype in plan.outs:
            outs[param] = kwargs[param] = _Out()
        ctx = InvocationContext(
            inv_id,
            plan.name,
            self.function_directory,
            TraceContext(trace_parent, trace_state, {}),
        )
        if plan.wants_context:
            kwargs["context"] = ctx
        if plan.is_async:
            result = await plan.fn(**kwargs)
        else:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(
                executor or self.executor, functools.partial(_call_sync, plan.fn, kwargs, ctx)
            )
        values = {param: out.get() for param, out in outs.items()}
        if bound is not None:
            await bound.write_outputs(values, result)
        return result, values

    def shutdown(self) -> None:
        """Stop the thread pool without waiting; sync calls not yet started are cancelled."""
        self.executor.shutdown(wait=False, cancel_futures=True)


def _call_sync(fn: Any, kwargs: dict[str, Any], ctx: InvocationContext) -> Any:
    ctx.thread_local_storage.invocation_id = ctx.invocation_id
    try:
        return fn(**kwargs)
    finally:
        ctx.thread_local_storage.invocation_id = None


# -- the context: func.Context of one invocation ------------------------------------------------

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
