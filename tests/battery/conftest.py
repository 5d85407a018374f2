"""The durability battery's pytest wiring: every test here is ``battery``; ``long`` ones need an opt-in.

Why opt-in by environment: the long variants (500 kills, a 5-minute soak) take far longer than CI
allows, so plain ``pytest`` skips them unless ``DURABLEAGENT_BATTERY_LONG=1`` is set, which
``scripts/battery`` does. ``pytest -m battery`` runs the CI part alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost

from .hosts import REQUEST_TIMEOUT, assert_store_healthy, battery_host

LONG_ENV = "DURABLEAGENT_BATTERY_LONG"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_long = os.environ.get(LONG_ENV) == "1"
    skip_long = pytest.mark.skip(reason=f"long battery variant: set {LONG_ENV}=1 or run scripts/battery")
    for item in items:  # the ``battery`` marker itself comes from the directory (tests/conftest.py)
        if HERE not in item.path.parents:
            continue
        if item.get_closest_marker("long") is not None and not run_long:
            item.add_marker(skip_long)


@dataclass
class Battery:
    """A running battery host (module-scoped), its work directory and an HTTP client on ``/api``."""

    host: LocalHost
    workdir: Path
    http: httpx.Client


@pytest.fixture(scope="module")
def battery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Battery]:
    workdir = tmp_path_factory.mktemp("battery")
    host = battery_host(workdir).start()
    try:
        with httpx.Client(base_url=host.url("/api"), timeout=REQUEST_TIMEOUT) as http:
            yield Battery(host, workdir, http)
    finally:
        code = host.stop()
    assert code == 0, host.output()
    assert_store_healthy(Path(host.store))
