"""Choose the ConversationStore from configuration: one place that reads the environment.

Why: the same ``function_app.py`` runs on Azure (transcripts in ``AzureWebJobsStorage`` tables) and
on the local host (its SQLite file, or memory), so the backend is picked from settings, not code:

* ``DURABLEAGENT_CONVERSATION_STORE`` = ``sqlite:PATH`` (relative to the working directory;
  ``?synchronous=normal`` only for a file whose WAL a FULL-committing host shares, see
  ``conversation.sqlite``)
  | ``memory:`` | ``azure-table:`` (optionally ``azure-table:?table=NAME``);
* else Azure Table storage when ``AzureWebJobsStorage`` is set: a connection string (including
  ``UseDevelopmentStorage=true``, i.e. Azurite), or identity-based
  ``AzureWebJobsStorage__tableServiceUri`` / ``__accountName`` with azure-identity's
  ``DefaultAzureCredential`` (``__clientId`` selects a user-assigned managed identity);
* else memory, with a WARNING: transcripts will not survive a restart.

Secrets never reach a log line or an error message: only the kind of connection is named.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs

from azure.core.credentials_async import AsyncTokenCredential

from durableagent.conversation._table_codec import DEFAULT_TABLE, check_table_name
from durableagent.conversation.azure_table import AzureTableConversationStore
from durableagent.conversation.base import StoreError
from durableagent.conversation.memory import MemoryConversationStore
from durableagent.conversation.sqlite import SQLiteConversationStore
from durableagent.conversation.store_protocol import ConversationStore

logger = logging.getLogger(__name__)

STORE_ENV = "DURABLEAGENT_CONVERSATION_STORE"
STORAGE_ENV = "AzureWebJobsStorage"
_FORMS = "sqlite:PATH[?synchronous=normal], memory:, azure-table: or azure-table:?table=NAME"
_SQLITE_OPTION = re.compile(r"(.+)\?synchronous=(full|normal)")


def store_from_url(url: str, env: Mapping[str, str] | None = None) -> ConversationStore:
    """The store named by ``url`` (a ``DURABLEAGENT_CONVERSATION_STORE`` value).

    ``env`` (default ``os.environ``) supplies the ``AzureWebJobsStorage`` settings for ``azure-table:``.
    """
    scheme, colon, rest = url.strip().partition(":")
    if not colon:
        raise ValueError(f"{STORE_ENV} must be one of {_FORMS}")
    if scheme == "memory" and not rest:
        return MemoryConversationStore()
    if scheme == "sqlite" and rest:
        location, synchronous = rest, "full"
        option = _SQLITE_OPTION.fullmatch(rest)  # only this exact suffix: a path may contain '?'
        if option is not None:
            location, synchronous = option.group(1), option.group(2)
        path = Path(location)
        store = SQLiteConversationStore(
            path if path.is_absolute() else Path.cwd() / path, synchronous=synchronous
        )
        logger.info("conversation store: SQLite file %s (synchronous=%s)", store.path, store.synchronous)
        return store
    if scheme == "azure-table" and (not rest or rest.startswith("?")):
        options = parse_qs(rest[1:], keep_blank_values=True, strict_parsing=bool(rest[1:]))
        if set(options) - {"table"} or len(options.get("table", [""])) != 1:
            raise ValueError(f"{STORE_ENV} must be azure-table: or azure-table:?table=NAME")
        table = options.get("table", [DEFAULT_TABLE])[0]
        return _azure_store(os.environ if env is None else env, table)
    raise ValueError(f"{STORE_ENV} must be one of {_FORMS}")


def store_from_environment(env: Mapping[str, str] | None = None) -> ConversationStore:
    """The store the environment (default ``os.environ``) selects; see the module docstring."""
    env = os.environ if env is None else env
    url = env.get(STORE_ENV, "").strip()
    if url:
        return store_from_url(url, env)
    if _has_storage(env):
        return _azure_store(env, DEFAULT_TABLE)
    logger.warning(
        "no conversation store configured (%s or %s): transcripts are kept in memory "
        "and will not survive a restart",
        STORE_ENV,
        STORAGE_ENV,
    )
    return MemoryConversationStore()


def _has_storage(env: Mapping[str, str]) -> bool:
    keys = (STORAGE_ENV, f"{STORAGE_ENV}__tableServiceUri", f"{STORAGE_ENV}__accountName")
    return any(env.get(key, "").strip() for key in keys)


def _azure_store(env: Mapping[str, str], table: str) -> AzureTableConversationStore:
    check_table_name(table)
    conn_str = env.get(STORAGE_ENV, "").strip()
    if conn_str:
        logger.info("conversation store: Azure Table %s (%s connection string)", table, STORAGE_ENV)
        return AzureTableConversationStore.from_connection_string(conn_str, table)
    endpoint = env.get(f"{STORAGE_ENV}__tableServiceUri", "").strip()
    account = env.get(f"{STORAGE_ENV}__accountName", "").strip()
    if not endpoint and account:
        endpoint = f"https://{account}.table.core.windows.net"
    if not endpoint:
        raise StoreError(
            f"azure-table: needs {STORAGE_ENV} (a connection string) or identity-based "
            f"{STORAGE_ENV}__tableServiceUri / {STORAGE_ENV}__accountName"
        )
    credential = _default_credential(env.get(f"{STORAGE_ENV}__clientId", "").strip() or None)
    logger.info("conversation store: Azure Table %s at %s (identity-based)", table, endpoint)
    blob_endpoint = env.get(f"{STORAGE_ENV}__blobServiceUri", "").strip() or None
    return AzureTableConversationStore.from_endpoint(endpoint, credential, table, blob_endpoint)


def _default_credential(client_id: str | None) -> AsyncTokenCredential:
    try:
        identity = importlib.import_module("azure.identity.aio")
    except ImportError as exc:
        raise StoreError(
            f"identity-based {STORAGE_ENV} needs azure-identity (pip install azure-identity)"
        ) from exc
    kwargs = {"managed_identity_client_id": client_id} if client_id else {}
    return cast(AsyncTokenCredential, identity.DefaultAzureCredential(**kwargs))


class StoreHolder:
    """The app's ConversationStore: the one given, else one chosen from the environment on first use.

    Lazy because a store's backend clients (Azure Tables' aiohttp session) belong to the event loop
    that first uses them: the agent loop, not the thread that imports the app.
    """

    def __init__(self, store: ConversationStore | None = None) -> None:
        """Hold ``store``, or choose one with :func:`store_from_environment` when first asked."""
        self.current = store
        self._lock = threading.Lock()

    def store(self) -> ConversationStore:
        """The store (created on the first call when none was given); ``current`` once it exists."""
        store = self.current
        if store is None:
            with self._lock:
                if self.current is None:
                    self.current = store_from_environment()
                store = self.current
        return store
