"""The HTTP contract as data: the openapi.yaml shipped inside the wheel, loaded once.

Why this module exists: openapi.yaml is the single source of the HTTP contract. The copy that
scripts/generate places in `durableagent_models` is what runs (never a file found relative to the
working directory), so the spec served at /openapi.json, the one requests are validated against and
the generated models cannot drift apart. Everything here is cached; callers must not mutate the
returned mappings (`spec_dict` hands out a private deep copy for callers that want to).

The spec's `servers` URL is `/api` (the default Functions route prefix). Apps with another
`extensions.http.routePrefix` serve a copy whose server URL is rewritten with `route_prefix`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "DEFAULT_ROUTE_PREFIX",
    "internal_spec",
    "normalize_route_prefix",
    "server_url",
    "spec_dict",
    "spec_json",
    "spec_sha256",
    "spec_yaml",
]

DEFAULT_ROUTE_PREFIX = "api"
_PACKAGE = "durableagent_models"
_RESOURCE = "openapi.yaml"
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def normalize_route_prefix(route_prefix: str | None) -> str:
    """Return the route prefix without surrounding slashes (`None` means the default `api`)."""
    if route_prefix is None:
        return DEFAULT_ROUTE_PREFIX
    return route_prefix.strip("/")


def server_url(route_prefix: str | None = None) -> str:
    """The `servers[0].url` for a route prefix: `/api`, `/v1/x`, or `/` for an empty prefix."""
    return "/" + normalize_route_prefix(route_prefix)


@functools.cache
def _shipped_yaml() -> bytes:
    return resources.files(_PACKAGE).joinpath(_RESOURCE).read_bytes()


@functools.cache
def _shipped_dict() -> dict[str, Any]:
    loaded = yaml.load(_shipped_yaml(), Loader=_Loader)  # noqa: S506 - CSafeLoader/SafeLoader only
    if not isinstance(loaded, dict):  # pragma: no cover - the generator copies a valid spec
        raise TypeError("openapi.yaml is not a mapping")
    return loaded


@functools.lru_cache(maxsize=8)
def _spec(route_prefix: str) -> dict[str, Any]:
    base = _shipped_dict()
    url = server_url(route_prefix)
    if base.get("servers", [{}])[0].get("url") == url:
        return base
    rewritten = dict(base)
    servers = copy.deepcopy(base.get("servers") or [{}])
    servers[0]["url"] = url
    rewritten["servers"] = servers
    return rewritten


def internal_spec(route_prefix: str | None = None) -> dict[str, Any]:
    """The cached spec dict (shared: never mutate it). For the validator and the spec routes."""
    return _spec(normalize_route_prefix(route_prefix))


def spec_dict(route_prefix: str | None = None) -> dict[str, Any]:
    """A private (deep-copied) spec dict, servers rewritten for `route_prefix`."""
    return copy.deepcopy(internal_spec(route_prefix))


@functools.lru_cache(maxsize=8)
def _json(route_prefix: str) -> bytes:
    return json.dumps(_spec(route_prefix), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def spec_json(route_prefix: str | None = None) -> bytes:
    """The spec as compact UTF-8 JSON (for `GET /openapi.json`)."""
    return _json(normalize_route_prefix(route_prefix))


@functools.lru_cache(maxsize=8)
def _yaml(route_prefix: str) -> bytes:
    spec = _spec(route_prefix)
    if spec is _shipped_dict():
        return _shipped_yaml()  # byte-exact, comments and layout preserved
    dumped: str = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
    return dumped.encode("utf-8")


def spec_yaml(route_prefix: str | None = None) -> bytes:
    """The spec as YAML bytes (the shipped file itself when the prefix is the default)."""
    return _yaml(normalize_route_prefix(route_prefix))


@functools.cache
def spec_sha256() -> str:
    """sha256 of the shipped openapi.yaml (equals `durableagent_models.SOURCE_SHA256`)."""
    return hashlib.sha256(_shipped_yaml()).hexdigest()
