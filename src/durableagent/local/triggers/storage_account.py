"""Which storage account a binding uses, and clients for its queue, blob and table services.

Why: a binding names its account by ``connection``, an app setting (empty means ``AzureWebJobsStorage``;
the host also tries the ``AzureWebJobs`` prefix, as ``StorageClientProvider`` does in
Azure/azure-sdk-for-net sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/
StorageClientProvider.cs). ``UseDevelopmentStorage=true`` is Azurite on 127.0.0.1:10000-10002 with the
well-known development account. Identity-based connections (``<name>__serviceUri``) need Azure AD
and are refused with a message. The Azure SDKs' async clients do the talking.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient
from azure.storage.queue.aio import QueueServiceClient

DEFAULT_CONNECTION = "AzureWebJobsStorage"
DEV_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}


class StorageSettingError(ValueError):
    """The binding's connection cannot be used (the message names the setting)."""


def setting_name(connection: str | None) -> str:
    """The app setting a ``connection`` property names (empty: ``AzureWebJobsStorage``)."""
    return connection.strip() if connection and connection.strip() else DEFAULT_CONNECTION


def connection_string(connection: str | None, env: Mapping[str, str] | None = None) -> str:
    """The connection string a binding's ``connection`` names (app settings are in the environment)."""
    values = os.environ if env is None else env
    name = setting_name(connection)
    for candidate in (name, f"AzureWebJobs{name}"):
        value = values.get(candidate, "").strip()
        if value:
            return value
    if any(key.startswith(f"{name}__") for key in values):
        raise StorageSettingError(
            f"connection {name!r} is identity-based ({name}__...): the local host needs a connection "
            "string or UseDevelopmentStorage=true"
        )
    raise StorageSettingError(f"app setting {name!r} (the storage connection) is not set")


def _fields(conn: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in conn.split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip().lower()] = value.strip()
    return out


def is_development_storage(conn: str) -> bool:
    """True for ``UseDevelopmentStorage=true``."""
    return _fields(conn).get("usedevelopmentstorage", "").lower() == "true"


def local_endpoints(conn: str) -> dict[str, tuple[str, int]] | None:
    """Loopback ``(host, port)`` of each service the account uses, when it is an emulator here; else None."""
    if is_development_storage(conn):
        return {service: ("127.0.0.1", port) for service, port in DEV_PORTS.items()}
    fields = _fields(conn)
    found: dict[str, tuple[str, int]] = {}
    for service in DEV_PORTS:
        url = fields.get(f"{service}endpoint")
        if not url:
            continue
        parts = urlsplit(url)
        if parts.hostname in ("127.0.0.1", "localhost", "::1") and parts.port:
            found[service] = (parts.hostname, parts.port)
    return found or None


@dataclass
class StorageAccount:
    """One connection string and its (lazily created) async service clients."""

    conn: str
    _queues: QueueServiceClient | None = None
    _blobs: BlobServiceClient | None = None
    _tables: TableServiceClient | None = None

    def queues(self) -> QueueServiceClient:
        """The account's queue service client (created on first use)."""
        if self._queues is None:
            self._queues = QueueServiceClient.from_connection_string(self.conn)
        return self._queues

    def blobs(self) -> BlobServiceClient:
        """The account's blob service client (created on first use)."""
        if self._blobs is None:
            self._blobs = BlobServiceClient.from_connection_string(self.conn)
        return self._blobs

    def tables(self) -> TableServiceClient:
        """The account's table service client (created on first use)."""
        if self._tables is None:
            self._tables = TableServiceClient.from_connection_string(self.conn)
        return self._tables

    async def close(self) -> None:
        """Close the clients that were created."""
        clients: list[Any] = [self._queues, self._blobs, self._tables]
        for client in clients:
            if client is not None:
                await client.close()
        self._queues = self._blobs = self._tables = None


class Accounts:
    """The storage accounts of the app's bindings, by connection string (one client set each)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        """No accounts yet; connection settings come from ``env`` (default: the environment)."""
        self.env = env
        self._by_conn: dict[str, StorageAccount] = {}

    def for_binding(self, connection: str | None) -> StorageAccount:
        """The account of a binding's ``connection`` (raises :class:`StorageSettingError`)."""
        conn = connection_string(connection, self.env)
        if conn not in self._by_conn:
            self._by_conn[conn] = StorageAccount(conn)
        return self._by_conn[conn]

    def all(self) -> list[StorageAccount]:
        """Every account used so far."""
        return list(self._by_conn.values())

    async def close(self) -> None:
        """Close every account's clients."""
        for account in self._by_conn.values():
            await account.close()
