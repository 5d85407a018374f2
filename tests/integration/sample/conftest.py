"""Fixtures for the sample app (samples/weather) served by the local host on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "weather"
FAULTS = {"DURABLEAGENT_OFFLINE_FAULTS": "1"}  # the offline model's test directives (#sleep:, #fail:)


@pytest.fixture(scope="module", params=["inprocess-rpc", "http-rpc", "fastapi"])
def sample_host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalHost]:
    """The sample in a subprocess host with a file store, offline model faults enabled.

    Run twice: with the host answering the app's Durable client in-process (the default), and with
    ``DURABLEAGENT_INPROCESS_RPC=0``, where every client call is real HTTP to the host's RPC port;
    and a third time in the model of the Azure HTTP streams extension (``PYTHON_ENABLE_INIT_INDEXING=1``
    makes the sample pass ``http_streaming=True``): the same assertions hold for FastAPI-typed routes.
    """
    env = {**FAULTS, "DURABLEAGENT_INPROCESS_RPC": "0" if request.param == "http-rpc" else "1"}
    env["PYTHON_ENABLE_INIT_INDEXING"] = "1" if request.param == "fastapi" else "0"
    host = LocalHost(SAMPLE, store=tmp_path_factory.mktemp("sample") / "store.sqlite", env=env)
    host.start()
    assert ("HTTP model: HTTP streams" in host.output()) == (request.param == "fastapi"), host.output()
    yield host
    assert host.stop() == 0, host.output()


@pytest.fixture
def api(sample_host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sample_host.url("/api"), timeout=30) as client:
        yield client
