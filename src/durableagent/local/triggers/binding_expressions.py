"""Binding expressions: ``{name}`` from the binding data, ``%SETTING%``, ``{rand-guid}``, ``{DateTime}``.

Why: output and input paths such as ``"out/{name}"`` or ``"orders/{queueTrigger}"`` are filled from the
trigger's binding data as the WebJobs SDK's ``BindingTemplate`` does: names are case-insensitive,
``{a.b}`` reads a property of a JSON payload, ``{rand-guid}``/``{sys.randguid}`` is a new GUID and
``{DateTime}``/``{sys.utcnow}`` the UTC time; ``%NAME%`` is an app setting. A name that is not in the
binding data is an error naming it (the host fails the invocation the same way).
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from azure.functions import meta

from durableagent.local.triggers.schedules import ScheduleError, resolve_settings

_EXPRESSION = re.compile(r"\{([^{}]+)\}")


class BindingExpressionError(ValueError):
    """An expression names binding data the trigger does not provide."""


def binding_data(trigger_metadata: Mapping[str, meta.Datum]) -> dict[str, Any]:
    """Plain values by lower-cased name; a JSON object payload adds its properties."""
    data: dict[str, Any] = {}
    for name, datum in trigger_metadata.items():
        value = datum.value
        if datum.type == "json" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        data[name.lower()] = value
    return data


def add_json_properties(data: dict[str, Any], payload: str | bytes | None) -> None:
    """A JSON object message or body adds its top-level properties (``{orderId}``)."""
    if payload is None:
        return
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return
    if isinstance(doc, dict):
        for key, value in doc.items():
            data.setdefault(str(key).lower(), value)


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    head, *rest = path.split(".")
    value: Any = data.get(head.strip().lower())
    for part in rest:
        if not isinstance(value, Mapping):
            return None
        value = {str(k).lower(): v for k, v in value.items()}.get(part.strip().lower())
    return value


def resolve(template: str, data: Mapping[str, Any]) -> str:
    """Fill ``template``; raises :class:`BindingExpressionError` for unknown names or settings."""
    try:
        text = resolve_settings(template)
    except ScheduleError as exc:
        raise BindingExpressionError(str(exc).replace("schedule", "binding")) from None

    def value(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        lowered = name.lower()
        if lowered in ("rand-guid", "sys.randguid"):
            return str(uuid.uuid4())
        if lowered in ("datetime", "sys.utcnow"):
            return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
        found = _lookup(data, name)
        if found is None:
            raise BindingExpressionError(f"no value for {{{name}}} in the trigger's binding data")
        return found if isinstance(found, str) else json.dumps(found)

    return _EXPRESSION.sub(value, text)
