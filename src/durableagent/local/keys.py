"""Function keys of the local host: which key opens which door.

Why: Core Tools never enforces keys, so an app whose routes are ``authLevel=function`` is
unprotected locally. ``--require-keys`` enforces them like Azure does (``anonymous`` open,
``function`` needs a key of that function, a host key or the master key, ``admin`` needs the
master key), and the Durable webhooks on the public port always require the system (or master)
key, so the management API is never exposed without one.

Key sources, first wins: ``DURABLEAGENT_MASTER_KEY`` / ``DURABLEAGENT_HOST_KEY`` /
``DURABLEAGENT_SYSTEM_KEY`` environment variables, the ``"Keys"`` block of ``local.settings.json``
(``{"master": "...", "host": {"default": "..."}, "functions": {"<fn>": {"default": "..."}}}``),
keys persisted in the store, and finally new random keys (32 bytes, base64url) that are persisted
so they survive restarts. Keys are compared with ``hmac.compare_digest`` and never logged.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from durableagent.local.settings import KeySettings

SYSTEM = "system"
MASTER = "master"
HOST_DEFAULT = "host.default"
ENV_KEYS = {
    MASTER: "DURABLEAGENT_MASTER_KEY",
    HOST_DEFAULT: "DURABLEAGENT_HOST_KEY",
    SYSTEM: "DURABLEAGENT_SYSTEM_KEY",
}


def new_key() -> str:
    """A new random key: 32 bytes, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def _matches(presented: str, candidates: Iterable[str]) -> bool:
    given = presented.encode()
    ok = False
    for candidate in candidates:
        # Compare against every candidate (no early exit on the first match).
        ok |= hmac.compare_digest(given, candidate.encode())
    return ok


@dataclass
class KeyRing:
    """Every key of the host; ``generated`` names those it made itself (to show them at startup)."""

    system: str
    master: str
    host: dict[str, str]
    functions: dict[str, dict[str, str]]
    generated: list[str] = field(default_factory=list)  # keys the host made (not configured by the user)

    def allows(self, auth_level: str, function: str, presented: str | None) -> bool:
        """Whether ``presented`` opens a function of ``auth_level``."""
        level = auth_level.lower()
        if level == "anonymous":
            return True
        if not presented:
            return False
        if level == "admin":
            return _matches(presented, [self.master])
        fn_keys = self.functions.get(function, {})
        return _matches(presented, [self.master, *self.host.values(), *fn_keys.values()])

    def allows_system(self, presented: str | None) -> bool:
        """The Durable webhooks: system key or master key."""
        return bool(presented) and _matches(presented or "", [self.system, self.master])


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The key a request carries: ``x-functions-key`` header, else the ``code`` query parameter."""
    return headers.get("x-functions-key") or query.get("code") or None


def build_keyring(
    settings: KeySettings, stored: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> tuple[KeyRing, dict[str, str]]:
    """Resolve every key; returns the ring and the generated keys to persist in the store."""
    env = os.environ if environ is None else environ
    to_persist: dict[str, str] = {}
    generated: list[str] = []

    def resolve(name: str, configured: str | None) -> str:
        value = env.get(ENV_KEYS[name]) or configured
        if value:
            return value
        value = stored.get(name)
        if value:
            generated.append(name)
            return value
        value = new_key()
        to_persist[name] = value
        generated.append(name)
        return value

    host = dict(settings.host)
    host_default = env.get(ENV_KEYS[HOST_DEFAULT])
    if host_default:
        host["default"] = host_default
    if not host:
        host["default"] = resolve(HOST_DEFAULT, None)
    ring = KeyRing(
        system=resolve(SYSTEM, None),
        master=resolve(MASTER, settings.master),
        host=host,
        functions={fn: dict(keys) for fn, keys in settings.functions.items()},
        generated=generated,
    )
    return ring, to_persist


def host_keys(conn: sqlite3.Connection) -> dict[str, str]:
    """The persisted host keys by name (``system`` among them): stable across restarts."""
    return dict(conn.execute("SELECT name, value FROM host_keys").fetchall())


def save_host_keys(conn: sqlite3.Connection, keys: dict[str, str]) -> None:
    """Persist ``keys``; a name already stored keeps its first value."""
    conn.executemany("INSERT OR IGNORE INTO host_keys (name, value) VALUES (?, ?)", list(keys.items()))
