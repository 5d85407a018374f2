"""Fixtures for the sessions tier: tests/apps/sessions_app on the local host, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost

SESSIONS_APP = Path(__file__).resolve().parents[2] / "apps" / "sessions_app"


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the app's slow tool and model probe leave their files."""
    return tmp_path_factory.mktemp("probe")


@pytest.fixture(scope="module")
def sessions_host(tmp_path_factory: pytest.TempPathFactory, probe_dir: Path) -> Iterator[LocalHost]:
    """The app in a subprocess host with a file store and the offline model's directives on."""
    env = {"DURABLEAGENT_OFFLINE_FAULTS": "1", "SESSIONS_DIR": str(probe_dir)}
    host = LocalHost(SESSIONS_APP, store=tmp_path_factory.mktemp("sessions") / "store.sqlite", env=env)
    host.start()
    yield host
    assert host.stop() == 0, host.output()


@pytest.fixture
def api(sessions_host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sessions_host.url("/api"), timeout=60) as client:
        yield client
