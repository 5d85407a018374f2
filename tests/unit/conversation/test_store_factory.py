"""Selecting the store from settings (no network: Azure stores are built, never used, then closed)."""

from __future__ import annotations

import logging
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from durableagent.conversation import (
    AzureTableConversationStore,
    ConversationStore,
    MemoryConversationStore,
    SQLiteConversationStore,
    StoreError,
    store_from_environment,
    store_from_url,
)

pytestmark = pytest.mark.anyio
SECRET = "c2VjcmV0LWtleQ=="
CONN = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={SECRET};EndpointSuffix=core.windows.net"


async def test_memory_and_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert isinstance(store_from_url("memory:"), MemoryConversationStore)
    relative = store_from_url("sqlite:data/t.sqlite")
    absolute = store_from_environment(
        {"DURABLEAGENT_CONVERSATION_STORE": f"sqlite:{tmp_path / 'abs.sqlite'}"}
    )
    try:
        assert isinstance(relative, SQLiteConversationStore)
        assert relative.path == tmp_path / "data" / "t.sqlite"
        assert isinstance(absolute, SQLiteConversationStore)
        assert absolute.path == tmp_path / "abs.sqlite"
    finally:
        await relative.aclose()
        await absolute.aclose()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:",
        "memory:x",
        "redis:",
        "azure-table:x",
        "azure-table:?tbl=x",
        "azure-table:?table=a-b",
        "nope",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="must"):
        store_from_url(url, {"AzureWebJobsStorage": CONN})


async def test_azure_table_from_a_connection_string(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stores: list[ConversationStore] = [
        store_from_environment({"AzureWebJobsStorage": CONN}),
        store_from_environment(
            {"DURABLEAGENT_CONVERSATION_STORE": "azure-table:", "AzureWebJobsStorage": CONN}
        ),
        store_from_url("azure-table:?table=Custom1", {"AzureWebJobsStorage": CONN}),
    ]
    try:
        names = [store.table_name for store in stores if isinstance(store, AzureTableConversationStore)]
        assert names == ["DurableAgentTranscripts", "DurableAgentTranscripts", "Custom1"]
    finally:
        for store in stores:
            await store.aclose()
    assert SECRET not in caplog.text
    assert "AccountKey" not in caplog.text


@pytest.mark.parametrize("conn", ["UseDevelopmentStorage=true", "usedevelopmentstorage=true; "])
async def test_development_storage_means_azurite(conn: str) -> None:
    store = store_from_environment({"AzureWebJobsStorage": conn})
    try:
        assert isinstance(store, AzureTableConversationStore)
        assert store._service.url.startswith("http://127.0.0.1:10002/devstoreaccount1")
    finally:
        await store.aclose()


def test_azure_table_without_settings_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="needs AzureWebJobsStorage"):
        store_from_url("azure-table:", {})


def test_identity_based_needs_azure_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity.aio", None)  # import fails as if not installed
    with pytest.raises(StoreError, match="needs azure-identity"):
        store_from_environment({"AzureWebJobsStorage__accountName": "acct"})


class FakeCredential:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.closed = False

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("no request is made in this test")

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("env", "endpoint"),
    [
        ({"AzureWebJobsStorage__accountName": "acct"}, "https://acct.table.core.windows.net"),
        (
            {
                "AzureWebJobsStorage__tableServiceUri": "https://x.table.example",
                "AzureWebJobsStorage__clientId": "id",
            },
            "https://x.table.example",
        ),
    ],
)
async def test_identity_based_connection(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], endpoint: str
) -> None:
    module = types.ModuleType("azure.identity.aio")
    module.DefaultAzureCredential = FakeCredential  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.identity.aio", module)
    store = store_from_environment(env)
    assert isinstance(store, AzureTableConversationStore)
    credential = store._credential
    assert isinstance(credential, FakeCredential)
    assert store._service.url.rstrip("/") == endpoint
    assert credential.kwargs == ({"managed_identity_client_id": "id"} if "clientId" in str(env) else {})
    await store.aclose()
    assert credential.closed


def test_nothing_configured_means_memory_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="durableagent.conversation.factory"):
        store = store_from_environment({"AzureWebJobsStorage": "  "})
    assert isinstance(store, MemoryConversationStore)
    assert "will not survive a restart" in caplog.text
