"""Blob and table input bindings, queue, blob and table output bindings, for any trigger.

Why: the invoker calls :class:`StorageBindings` (its ``BindingHook``) around every invocation of a
function that has such bindings, whatever its trigger (HTTP, timer, queue, blob, activity). Paths,
queue names and keys are binding expressions filled from the trigger's binding data (route and query
values for HTTP). Inputs are read before the call: a blob's content (``str`` parameters get text, others
bytes; a missing blob is ``None``), a table entity (``partitionKey`` + ``rowKey``) or a query
(``partitionKey``, ``filter``, ``take``) as the JSON text the worker receives. Outputs are written after
a successful call only: ``func.Out`` values and ``$return``, encoded by azure.functions' own converters
(a queue message, a list of them, a blob's bytes); a table entity (or a JSON array of them) is
upserted, taking missing keys from the binding. A failed write fails the invocation (as on Azure).
"""

from __future__ import annotations

import contextlib
import json
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.functions import meta

from durableagent.local.indexing import is_input
from durableagent.local.triggers import table_json
from durableagent.local.triggers.binding_expressions import add_json_properties, binding_data, resolve
from durableagent.local.triggers.invocation import binding_props
from durableagent.local.triggers.queue_listener import encode_body

if TYPE_CHECKING:
    from durableagent.local.indexing import FunctionPlan
    from durableagent.local.triggers.storage_engine import StorageEngine

STORAGE_INPUTS = ("blob", "table")
STORAGE_OUTPUTS = ("queue", "blob", "table")
_REGISTRY: Any = meta.get_binding_registry()  # type: ignore[no-untyped-call]


def storage_bindings(function: Any) -> list[Any]:
    """The function's bindings this module resolves (the trigger itself excluded)."""
    trigger = function.get_trigger()
    found = []
    for binding in function.get_bindings():
        if binding is trigger or binding.name == trigger.name:
            continue
        kinds = STORAGE_INPUTS if is_input(binding) else STORAGE_OUTPUTS
        if str(binding.type) in kinds:
            found.append(binding)
    return found


def _http_data(inputs: Mapping[str, meta.Datum]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for datum in inputs.values():
        if datum.type == "http" and isinstance(datum.value, dict):
            for part in ("query", "params"):
                for key, value in datum.value.get(part, {}).items():
                    data[key.lower()] = getattr(value, "value", value)
            body = datum.value.get("body")
            add_json_properties(data, getattr(body, "value", None))
    return data


class StorageBindings:
    """The invoker's binding hook for storage bindings."""

    def __init__(self, engine: StorageEngine) -> None:
        """No functions added yet; ``engine`` supplies the storage accounts."""
        self.engine = engine
        self.by_function: dict[str, list[Any]] = {}
        self.hints: dict[str, dict[str, Any]] = {}
        self.created: set[tuple[str, str, str]] = set()  # (connection, kind, name) known to exist

    async def ensure(self, conn: str, kind: str, name: str, create: Callable[[], Awaitable[Any]]) -> None:
        """Create an output's queue, container or table once per host run (it may already exist)."""
        key = (conn, kind, name)
        if key not in self.created:
            with contextlib.suppress(ResourceExistsError):
                await create()
            self.created.add(key)

    def add(self, function: Any) -> None:
        """Resolve the storage bindings of ``function`` on every invocation from now on."""
        name = function.get_function_name()
        self.by_function[name] = storage_bindings(function)
        try:
            self.hints[name] = typing.get_type_hints(function.get_user_function())
        except Exception:  # noqa: BLE001 - unresolvable annotations: bytes for blobs
            self.hints[name] = {}

    async def prepare(
        self, plan: FunctionPlan, inputs: Mapping[str, meta.Datum], trigger_metadata: Mapping[str, meta.Datum]
    ) -> BoundStorageCall | None:
        """Read the call's input bindings; None for a function without storage bindings."""
        bindings = self.by_function.get(plan.name)
        if not bindings:
            return None
        data = {**_http_data(inputs), **binding_data(trigger_metadata)}
        trigger = trigger_metadata.get("QueueTrigger")
        if trigger is not None:
            add_json_properties(data, trigger.value)
        resolved = dict(inputs)
        for binding in bindings:
            if is_input(binding):
                datum = await self._read(plan.name, binding, data)
                if datum is not None:
                    resolved[binding.name] = datum
        return BoundStorageCall(self, bindings, resolved, data)

    async def _read(self, function: str, binding: Any, data: Mapping[str, Any]) -> meta.Datum | None:
        props = binding_props(binding)
        account = self.engine.accounts.for_binding(props.get("connection"))
        if str(binding.type) == "blob":
            container, _, name = resolve(str(props.get("path", "")), data).partition("/")
            try:
                downloader = await account.blobs().get_blob_client(container, name).download_blob()
                content = await downloader.readall()
            except ResourceNotFoundError:
                return None
            hint = self.hints.get(function, {}).get(binding.name)
            wants_text = str(props.get("dataType") or "").lower() == "string" or (
                hint is str or str in typing.get_args(hint)
            )
            return (
                meta.Datum(content.decode("utf-8"), "string") if wants_text else meta.Datum(content, "bytes")
            )
        table = account.tables().get_table_client(resolve(str(props.get("tableName", "")), data))
        text = await table_json.read(table, props, lambda t: resolve(t, data))
        return None if text is None else meta.Datum(text, "json")


class BoundStorageCall:
    """One invocation's storage bindings: resolved inputs, and the outputs to write afterwards."""

    def __init__(
        self, owner: StorageBindings, bindings: list[Any], inputs: dict[str, meta.Datum], data: dict[str, Any]
    ) -> None:
        """Hold one call's storage ``bindings``, its resolved ``inputs`` and binding data."""
        self.owner, self.bindings, self._inputs, self.data = owner, bindings, inputs, data

    @property
    def inputs(self) -> Mapping[str, meta.Datum]:
        """The invocation's inputs, storage inputs included."""
        return self._inputs

    async def write_outputs(self, outs: Mapping[str, Any], result: Any) -> None:
        """Write every output binding that has a value (after a successful call only)."""
        for binding in self.bindings:
            if is_input(binding):
                continue
            value = result if binding.name == "$return" else outs.get(binding.name)
            if value is not None:
                await self._write(binding, value)

    async def _write(self, binding: Any, value: Any) -> None:
        props = binding_props(binding)
        engine = self.owner.engine
        account = engine.accounts.for_binding(props.get("connection"))
        kind = str(binding.type)
        if kind == "table":
            table = account.tables().get_table_client(resolve(str(props.get("tableName", "")), self.data))
            entities = table_json.entities(value, props, lambda t: resolve(t, self.data))
            await self.owner.ensure(account.conn, kind, table.table_name, table.create_table)
            for entity in entities:
                await table.upsert_entity(entity, mode=UpdateMode.REPLACE)
            return
        datum = _REGISTRY.get(kind).encode(value, expected_type=None)
        if kind == "blob":
            container, _, name = resolve(str(props.get("path", "")), self.data).partition("/")
            await self.owner.ensure(
                account.conn, kind, container, lambda: account.blobs().create_container(container)
            )
            await account.blobs().get_blob_client(container, name).upload_blob(datum.value, overwrite=True)
            engine.blob_written(account, container)
            return
        queue_name = resolve(str(props.get("queueName", "")), self.data).lower()
        queue = account.queues().get_queue_client(queue_name)
        await self.owner.ensure(account.conn, kind, queue_name, queue.create_queue)
        for body in _queue_bodies(datum):
            await queue.send_message(encode_body(body, engine.queue_options))
        engine.message_added(account, queue_name)


def _queue_bodies(datum: meta.Datum) -> list[bytes]:
    """Message bodies of an encoded queue output: one string/bytes, or a JSON list of them."""
    if datum.type == "bytes":
        return [bytes(datum.value)]
    if datum.type == "string":
        return [str(datum.value).encode()]
    doc = json.loads(datum.value)
    items = doc if isinstance(doc, list) else [doc]
    return [(item["body"] if isinstance(item, dict) else str(item)).encode() for item in items]
