"""Azure-Table-specific behaviour of the conversation store, against Azurite.

The backend-neutral contract is in tests/unit/conversation; here: the row layout (keys, chunks),
several clients racing on one request's attempt counter, selection through the factory, and
failures that must surface as StoreUnavailableError.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from azure.data.tables.aio import TableServiceClient
from azurite_launcher import Azurite, free_port

from durableagent.conversation import (
    AzureTableConversationStore,
    SessionRef,
    StoreUnavailableError,
    TurnRecord,
    store_from_environment,
    store_from_url,
)
from durableagent.conversation._table_codec import CHUNK_UNITS

pytestmark = pytest.mark.anyio
REF = SessionRef("WeatherAgent", "user-123", "9f2c0a1b2c3d4e5f")


def record(turn: int, text: str) -> TurnRecord:
    return TurnRecord(
        turn=turn,
        request_id=f"req-{turn}",
        role="user",
        user={"type": "message", "role": "user", "contents": [{"type": "text", "text": text}]},
        reply=None,
        value=None,
        error=None,
        started_at="2025-01-01T00:00:00Z",
        completed_at="2025-01-01T00:00:01Z",
    )


@pytest.fixture
def table_name() -> str:
    return f"T{uuid.uuid4().hex}"


@pytest.fixture
async def service(azurite: Azurite) -> AsyncIterator[TableServiceClient]:
    client = TableServiceClient.from_connection_string(azurite.connection_string)
    async with client:
        yield client


@pytest.mark.azurite
async def test_row_layout(azurite: Azurite, service: TableServiceClient, table_name: str) -> None:
    text = ("abc 漢字 😀 " * 30_000)[:150_000]
    big = record(7, text)
    store = AzureTableConversationStore.from_connection_string(azurite.connection_string, table_name)
    try:
        await store.append_turn(REF, big)
        await store.begin_attempt(REF.agent, REF.session, "c-1")
    finally:
        await store.aclose()
    table = service.get_table_client(table_name)
    row = await table.get_entity("WeatherAgent~user-123", "9f2c0a1b2c3d4e5f~0000000007")
    chunks = [row[f"d{i}"] for i in range(row["n"])]
    assert row["n"] > 1
    assert row["v"] == 1
    assert all(len(chunk.encode("utf-16-le")) // 2 <= CHUNK_UNITS for chunk in chunks)
    assert "".join(chunks) == big.to_json()
    ledger = await table.get_entity("WeatherAgent~user-123", "req~c-1")
    assert (ledger["attempts"], ledger["state"]) == (1, "running")


@pytest.mark.azurite
async def test_racing_clients_never_lose_an_attempt(azurite: Azurite, table_name: str) -> None:
    stores = [
        AzureTableConversationStore.from_connection_string(azurite.connection_string, table_name)
        for _ in range(3)
    ]
    try:
        await stores[0].mark_accepted(REF.agent, REF.session, "c-1")  # creates the table first
        counts = await asyncio.gather(
            *(store.begin_attempt(REF.agent, REF.session, "c-1") for store in stores for _ in range(5))
        )
    finally:
        for store in stores:
            await store.aclose()
    assert sorted(counts) == list(range(1, 16))


@pytest.mark.azurite
async def test_factory_uses_azure_web_jobs_storage(
    azurite: Azurite, service: TableServiceClient, table_name: str
) -> None:
    env = {"AzureWebJobsStorage": azurite.connection_string}
    for store in (store_from_environment(env), store_from_url(f"azure-table:?table={table_name}", env)):
        assert isinstance(store, AzureTableConversationStore)
        try:
            await store.append_turn(REF, record(1, "hi"))
            assert await store.get_turn(REF, 1) == record(1, "hi")
        finally:
            await store.aclose()
    names = {table.name async for table in service.list_tables()}
    assert {"DurableAgentTranscripts", table_name} <= names


async def test_unreachable_service_is_unavailable(table_name: str) -> None:
    port = free_port()  # nothing listens there
    conn = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    store = AzureTableConversationStore.from_connection_string(conn, table_name)
    try:
        with pytest.raises(StoreUnavailableError, match="unreachable") as caught:
            await store.append_turn(REF, record(1, "hi"))
        assert "a2V5" not in str(caught.value)
    finally:
        await store.aclose()
