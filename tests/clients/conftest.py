"""The sample app on the local host for the generated-client tests (offline-model faults enabled).

Faults are on so that a ``#sleep:1`` message keeps a turn running long enough for a ``202``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from durableagent.testing.host import LocalHost

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "weather"
CLIENTS = ROOT / "clients"


@pytest.fixture(scope="module")
def sample_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    host = LocalHost(
        SAMPLE,
        store=tmp_path_factory.mktemp("clients") / "store.sqlite",
        env={"DURABLEAGENT_OFFLINE_FAULTS": "1"},
    )
    host.start()
    yield host
    assert host.stop() == 0, host.output()
