"""pytest plugin of durableagent: the ``local_host`` fixture factory.

Registered through the ``pytest11`` entry point, so it is imported by every pytest run in an
environment where durableagent is installed: it imports nothing heavy at module level (the host
is imported when a test first asks for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from durableagent.testing.host import LocalHost


@pytest.fixture
def local_host(tmp_path: Path) -> Iterator[Callable[..., LocalHost]]:
    """Start local hosts for this test; call it with an app directory and ``LocalHost`` options.

    Each host gets its own store under ``tmp_path`` unless ``store=`` is given; every host started
    through the factory is stopped when the test ends.
    """
    from durableagent.testing.host import LocalHost

    started: list[LocalHost] = []

    def factory(app_dir: str | Path, **options: Any) -> LocalHost:
        options.setdefault("store", tmp_path / f"store-{len(started)}.sqlite")
        host = LocalHost(app_dir, **options)
        started.append(host)
        return host.start()

    yield factory
    for host in reversed(started):
        if host.running:
            host.stop()
