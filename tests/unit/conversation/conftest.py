"""Fixtures of the ConversationStore contract suite: one store per backend, closed after the test.

The ``azure-table`` backend runs against Azurite (started once per session, marked ``azurite``) and
skips with a reason when Azurite is not installed, so this directory runs without Node.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from durableagent.conversation import (
    AzureTableConversationStore,
    ConversationStore,
    MemoryConversationStore,
    SQLiteConversationStore,
)

# The Azurite launcher lives with the Azurite tier; this suite reuses it.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration" / "azurite"))
import azurite_launcher

BACKENDS = ["memory", "sqlite", pytest.param("azure-table", marks=pytest.mark.azurite)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[azurite_launcher.AzuriteStorage]:
    """Azurite's table and blob services (records beyond one table entity go to blobs)."""
    reason = azurite_launcher.missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = azurite_launcher.start_storage(tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], ConversationStore]:
    """A factory of stores over the same data (a fresh table or file per test)."""
    if request.param == "memory":
        return MemoryConversationStore
    if request.param == "sqlite":
        return lambda: SQLiteConversationStore(tmp_path / "transcripts.sqlite")
    server: azurite_launcher.AzuriteStorage = request.getfixturevalue("azurite")
    table = f"T{uuid.uuid4().hex}"
    return lambda: AzureTableConversationStore.from_connection_string(server.connection_string, table)


@pytest.fixture
async def store(make_store: Callable[[], ConversationStore]) -> AsyncIterator[ConversationStore]:
    opened = make_store()
    try:
        yield opened
    finally:
        await opened.aclose()
