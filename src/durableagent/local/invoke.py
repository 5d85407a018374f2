"""Invoke a function the way the Python worker does: azure-functions converters, Context, one loop.

Why: user code (and the Durable SDK's decorators wrapped around it) only behave as on Azure if
arguments are decoded and results encoded by ``azure.functions.meta.get_binding_registry()`` just
as the worker does (protocol.md §3): ``str``/``bytes`` parameters get the raw datum (that is how
the durableClient parameter receives its JSON), a free ``context`` parameter gets a
``func.Context``, async functions are awaited on the host's single event loop (the Durable SDK
keeps a module-global aiohttp session bound to it), and sync functions run in a thread pool.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import typing
import uuid
from collections.abc import Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from azure.functions import meta

from durableagent.local.binding_hooks import BindingHook
from durableagent.local.http_io import StreamedBody, streamed_body
from durableagent.local.indexing import is_input
from durableagent.local.invocation_context import InvocationContext, TraceContext

_REGISTRY: Any = meta.get_binding_registry()  # type: ignore[no-untyped-call]
_GENERIC_TYPES = (str, bytes)


class _Out(func.Out[Any]):
    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


@dataclass(frozen=True)
class _Input:
    param: str
    binding: str
    converter: Any  # None: generic pass-through of datum.value


@dataclass(frozen=True)
class FunctionPlan:
    """How to call one function; built once at startup."""

    name: str
    fn: Any
    is_async: bool
    inputs: tuple[_Input, ...]
    outs: tuple[tuple[str, str], ...]  # (param, binding type) for func.Out parameters
    wants_context: bool
    return_converter: Any  # encodes the result ($return binding or an implicit-output trigger)
    return_type: Any


def plan_function(function: Any) -> FunctionPlan:
    """Work out once how to call ``function`` as the worker would: converters, Out params, result."""
    fn = function.get_user_function()
    name = function.get_function_name()
    sig = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable annotations: the worker falls back the same way
        hints = dict(getattr(fn, "__annotations__", {}))
    bindings = function.get_bindings()
    by_name = {b.name: b for b in bindings}
    inputs: list[_Input] = []
    outs: list[tuple[str, str]] = []
    for param in sig.parameters:
        binding = by_name.get(param)
        if binding is None:
            continue
        conv = _REGISTRY.get(binding.type)
        if is_input(binding):
            pytype = hints.get(param)
            implicit = conv is not None and conv.has_implicit_output()
            generic = conv is None or (pytype in _GENERIC_TYPES and not implicit)
            inputs.append(_Input(param, binding.name, None if generic else conv))
        else:
            outs.append((param, str(binding.type)))
    ret_conv = None
    ret = by_name.get("$return")
    trigger = function.get_trigger()
    if ret is not None:
        ret_conv = _REGISTRY.get(ret.type)
    else:
        tconv = _REGISTRY.get(trigger.type) if trigger is not None else None
        if tconv is not None and tconv.has_implicit_output():
            ret_conv = tconv
    return FunctionPlan(
        name=name,
        fn=fn,
        is_async=inspect.iscoroutinefunction(fn),
        inputs=tuple(inputs),
        outs=tuple(outs),
        wants_context="context" in sig.parameters and "context" not in by_name,
        return_converter=ret_conv,
        return_type=hints.get("return"),
    )


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
            conv = _REGISTRY.get(btype)
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
