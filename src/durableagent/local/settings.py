"""What the local host reads from an app directory: ``host.json`` and ``local.settings.json``.

Why: the same app directory runs under ``func start`` and under ``durableagent serve``, so the
local host honours the same files with the same defaults (route prefix ``api``, hub
``TestHubName``, batch size 50) and loads ``local.settings.json`` ``Values`` into the environment
the way Core Tools does: variables already set in the environment win.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durableagent.local.setting_refs import try_resolve_whole

DEFAULT_ROUTE_PREFIX = "api"
DEFAULT_HUB = "TestHubName"
DEFAULT_BATCH_SIZE = 50
DEFAULT_SCRIPT = "function_app.py"


class SettingsError(ValueError):
    """host.json or local.settings.json cannot be used (message names the file and the problem)."""


@dataclass(frozen=True)
class KeySettings:
    """Keys configured in the top-level ``"Keys"`` block of ``local.settings.json``.

    ``{"Keys": {"master": "...", "host": {"default": "..."}, "functions": {"fn": {"default": "..."}}}}``
    """

    master: str | None = None
    host: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class VersioningSettings:
    """``extensions.durableTask`` ``defaultVersion``, ``versionMatchStrategy``, ``versionFailureStrategy``.

    Defaults as documented for Durable Functions orchestration versioning: no default version,
    ``CurrentOrOlder`` matching, ``Reject`` on a mismatch (``None`` and ``Fail`` are the others).
    """

    default_version: str | None = None
    match_strategy: str = "CurrentOrOlder"  # "None" | "Strict" | "CurrentOrOlder"
    failure_strategy: str = "Reject"  # "Reject" | "Fail"


_MATCH_STRATEGIES = ("None", "Strict", "CurrentOrOlder")
_FAILURE_STRATEGIES = ("Reject", "Fail")


def _choice(value: Any, allowed: tuple[str, ...], where: str, default: str) -> str:
    """A .NET enum parse (case-insensitive name) of a host.json value."""
    if value is None:
        return default
    for name in allowed:
        if isinstance(value, str) and value.lower() == name.lower():
            return name
    raise SettingsError(f"host.json: extensions.durableTask.{where} must be one of {', '.join(allowed)}")


def _versioning(durable: Mapping[str, Any]) -> VersioningSettings:
    version = _ci_get(durable, "defaultVersion")
    if version is not None and not isinstance(version, str):
        raise SettingsError("host.json: extensions.durableTask.defaultVersion must be a string")
    return VersioningSettings(
        default_version=version or None,
        match_strategy=_choice(
            _ci_get(durable, "versionMatchStrategy"),
            _MATCH_STRATEGIES,
            "versionMatchStrategy",
            "CurrentOrOlder",
        ),
        failure_strategy=_choice(
            _ci_get(durable, "versionFailureStrategy"),
            _FAILURE_STRATEGIES,
            "versionFailureStrategy",
            "Reject",
        ),
    )


@dataclass(frozen=True)
class AppSettings:
    """What the host takes from ``host.json`` and ``local.settings.json`` (defaults as Core Tools)."""

    app_dir: Path
    script: str
    route_prefix: str
    hub_name: str
    max_batch_size: int
    values: Mapping[str, str]
    keys: KeySettings
    local_http_port: int | None
    versioning: VersioningSettings = field(default_factory=VersioningSettings)
    max_entity_functions: int | None = None  # extensions.durableTask.maxConcurrentEntityFunctions


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        # Core Tools tolerates a UTF-8 BOM in these files.
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except ValueError as exc:
        raise SettingsError(f"{path}: not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise SettingsError(f"{path}: expected a JSON object")
    return doc


def _ci_get(doc: Mapping[str, Any], key: str) -> Any:
    """Case-insensitive lookup (host.json keys are case-insensitive)."""
    for k, v in doc.items():
        if k.lower() == key.lower():
            return v
    return None


def _str_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SettingsError(f"{where} must map names to strings")
    return {str(k): v for k, v in value.items()}


def _keys(doc: Any) -> KeySettings:
    if doc is None:
        return KeySettings()
    if not isinstance(doc, dict):
        raise SettingsError("local.settings.json: Keys must be an object")
    master = _ci_get(doc, "master")
    if master is not None and not isinstance(master, str):
        raise SettingsError("local.settings.json: Keys.master must be a string")
    functions_doc = _ci_get(doc, "functions") or {}
    if not isinstance(functions_doc, dict):
        raise SettingsError("local.settings.json: Keys.functions must be an object")
    functions = {fn: _str_map(v, f"Keys.functions.{fn}") for fn, v in functions_doc.items()}
    return KeySettings(master=master, host=_str_map(_ci_get(doc, "host"), "Keys.host"), functions=functions)


def load_settings(app_dir: Path, script: str | None = None) -> AppSettings:
    """Read both files of ``app_dir`` (missing files mean defaults)."""
    host = _read_json(app_dir / "host.json")
    local = _read_json(app_dir / "local.settings.json")
    values = _str_map(_ci_get(local, "Values"), "local.settings.json: Values")
    extensions = _ci_get(host, "extensions") or {}
    http = _ci_get(extensions, "http") or {}
    durable = _ci_get(extensions, "durableTask") or {}
    prefix = _ci_get(http, "routePrefix")
    hub = _ci_get(durable, "hubName")
    batch = _ci_get(durable, "maxEntityOperationBatchSize")
    entity_threads = _ci_get(durable, "maxConcurrentEntityFunctions")
    if entity_threads is not None and (not isinstance(entity_threads, int) or entity_threads < 1):
        raise SettingsError("host.json: extensions.durableTask.maxConcurrentEntityFunctions must be >= 1")
    if prefix is not None and not isinstance(prefix, str):
        raise SettingsError("host.json: extensions.http.routePrefix must be a string")
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        raise SettingsError("host.json: extensions.durableTask.maxEntityOperationBatchSize must be >= 1")
    host_section = _ci_get(local, "Host") or {}
    port = _ci_get(host_section, "LocalHttpPort") if isinstance(host_section, dict) else None
    return AppSettings(
        app_dir=app_dir,
        script=script
        or os.environ.get("PYTHON_SCRIPT_FILE_NAME")
        or values.get("PYTHON_SCRIPT_FILE_NAME")
        or DEFAULT_SCRIPT,
        route_prefix=(prefix if prefix is not None else DEFAULT_ROUTE_PREFIX).strip("/"),
        # The extension resolves a whole-string "%NAME%" hub name from the app settings
        # (DurableTaskOptions.ResolveAppSettingOptions); environment variables win over Values.
        hub_name=try_resolve_whole(hub, {**values, **os.environ})
        if isinstance(hub, str) and hub
        else DEFAULT_HUB,
        max_batch_size=batch or DEFAULT_BATCH_SIZE,
        values=values,
        keys=_keys(_ci_get(local, "Keys")),
        local_http_port=port if isinstance(port, int) else None,
        versioning=_versioning(durable if isinstance(durable, dict) else {}),
        max_entity_functions=entity_threads,
    )


def apply_values(values: Mapping[str, str], environ: MutableMapping[str, str] | None = None) -> None:
    """Copy ``Values`` into the environment without overriding variables already set (Core Tools)."""
    env = os.environ if environ is None else environ
    for name, value in values.items():
        env.setdefault(name, value)
