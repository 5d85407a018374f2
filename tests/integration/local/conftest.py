"""Fixtures for the local host integration tier: the plain_df app served on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost

PLAIN_DF = Path(__file__).resolve().parents[2] / "apps" / "plain_df"


@pytest.fixture(scope="module")
def plain_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    """One subprocess host per test module (file store), stopped gracefully at the end."""
    host = LocalHost(PLAIN_DF, store=tmp_path_factory.mktemp("plain") / "store.sqlite")
    host.start()
    yield host
    assert host.stop() == 0, host.output()


@pytest.fixture
def http(plain_host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=plain_host.base_url, timeout=30) as client:
        yield client
