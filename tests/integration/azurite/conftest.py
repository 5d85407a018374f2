"""Fixtures for the Azurite tier: one Azurite table service per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azurite_launcher import Azurite, AzuriteStorage, missing_reason, start, start_storage


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = start(tmp_path_factory.mktemp("azurite"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite_storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AzuriteStorage]:
    """Azurite's blob, queue and table services, for the storage trigger and binding tests."""
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    server = start_storage(tmp_path_factory.mktemp("azurite-storage"))
    yield server
    server.stop()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
