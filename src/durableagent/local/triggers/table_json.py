"""Table entities as the worker sees them: JSON objects with ``PartitionKey``, ``RowKey``, ``Timestamp``.

Why: a Python function's table input is JSON text (one entity for ``partitionKey`` + ``rowKey``, else
a JSON array from a query with ``partitionKey``, ``filter`` and ``take``), and its table output is JSON
text of an entity or an array of entities; this module converts between that JSON and the
azure-data-tables SDK's entities.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables.aio import TableClient

Resolve = Callable[[str], str]


class TableBindingError(ValueError):
    """A table output value is not an entity (or list of entities) with its keys."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return _plain(value.value)  # EntityProperty / typed values
    return value


def to_json(entity: Any) -> dict[str, Any]:
    """An SDK entity as the JSON object a function receives (``Timestamp`` included)."""
    out: dict[str, Any] = {k: _plain(v) for k, v in dict(entity).items()}
    timestamp = getattr(entity, "metadata", {}).get("timestamp")
    if timestamp is not None:
        out["Timestamp"] = _plain(timestamp)
    return out


async def read(table: TableClient, props: dict[str, Any], resolve: Resolve) -> str | None:
    """The JSON text of the table input (None when the single entity does not exist)."""
    partition = props.get("partitionKey")
    row = props.get("rowKey")
    if partition is not None and row is not None:
        try:
            entity = await table.get_entity(resolve(str(partition)), resolve(str(row)))
        except ResourceNotFoundError:
            return None
        return json.dumps(to_json(entity))
    clauses = []
    if partition is not None:
        escaped = resolve(str(partition)).replace("'", "''")
        clauses.append(f"PartitionKey eq '{escaped}'")
    if props.get("filter"):
        clauses.append(f"({resolve(str(props['filter']))})")
    take = int(props["take"]) if props.get("take") is not None else None
    found: list[dict[str, Any]] = []
    try:
        pages = table.query_entities(" and ".join(clauses)) if clauses else table.list_entities()
        async for entity in pages:
            found.append(to_json(entity))
            if take is not None and len(found) >= take:
                break
    except ResourceNotFoundError:
        pass  # no table yet: no entities
    return json.dumps(found)


def entities(value: Any, props: dict[str, Any], resolve: Resolve) -> list[dict[str, Any]]:
    """The entities of a table output value (JSON text, bytes, a dict or a list)."""
    doc = json.loads(value) if isinstance(value, str | bytes) else value
    items = doc if isinstance(doc, list) else [doc]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise TableBindingError("a table output must be a JSON object or an array of objects")
        entity = {k: v for k, v in item.items() if k not in ("Timestamp", "odata.etag", "ETag")}
        for key, prop in (("PartitionKey", "partitionKey"), ("RowKey", "rowKey")):
            if key not in entity and props.get(prop) is not None:
                entity[key] = resolve(str(props[prop]))
            if not isinstance(entity.get(key), str):
                raise TableBindingError(f"a table output entity needs a string {key}")
        out.append(entity)
    return out
