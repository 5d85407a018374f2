"""Fixtures for the sample app (samples/weather) served by the local host on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "weather"
FAULTS = {"DURABLEAGENT_OFFLINE_FAULTS": "1"}  # the offline model's test directives (#sleep:, #fail:)


@pytest.fixture(scope="module")
def sample_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    """The sample in a subprocess host with a file store, offline model faults enabled."""
    host = LocalHost(SAMPLE, store=tmp_path_factory.mktemp("sample") / "store.sqlite", env=FAULTS)
    host.start()
    yield host
    assert host.stop() == 0, host.output()


@pytest.fixture
def api(sample_host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sample_host.url("/api"), timeout=30) as client:
        yield client
