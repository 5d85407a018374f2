"""Shared test configuration: the tier markers (from a test's directory), tier timings, repo paths.

Tiers are directories: a test's first directory under tests/ names its tier, and :data:`TIERS`
gives the markers every test of that tier carries, so ``-m battery``, ``-m "not integration"``
select by directory and no test file marks its own tier. Markers that say what a test needs
rather than where it lives (``long``, ``azurite``, ``node``, or ``integration`` on a test outside
integration/ that starts the local host) stay on the test. At the end of a run a small table shows
how long each tier took (setup + call + teardown of its tests, fixtures included).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SAMPLE_DIR = ROOT / "samples" / "weather"

TIERS: dict[str, tuple[str, ...]] = {
    "unit": ("unit",),  # no sockets
    "integration": ("integration",),  # servers on a loopback port: the local host, Azurite
    "contract": ("contract",),  # openapi.yaml drift, Schemathesis
    "battery": ("battery",),  # durability and safety
    "browser": ("browser",),  # headless Chromium
    "clients": ("clients",),  # the generated Python and TypeScript clients
}
"""Tier directory under tests/ -> the markers of every test in it."""

_TIER_KEY = pytest.StashKey[dict[str, str]]()


def tier_of(path: Path) -> str | None:
    """The tier directory of a test file ("" directly in tests/), or None outside tests/."""
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 else ""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tiers = config.stash.setdefault(_TIER_KEY, {})
    strays = []
    for item in items:
        tier = tier_of(item.path)
        if tier is None:
            continue
        if tier not in TIERS:
            strays.append(item.nodeid)
            continue
        tiers[item.nodeid] = tier
        for name in TIERS[tier]:
            item.add_marker(name)
    if strays:
        raise pytest.UsageError(
            f"every test lives in a tier directory ({', '.join(TIERS)}); not: {', '.join(strays[:5])}"
        )


class TierTimings:
    """Sums the setup, call and teardown durations of every test per tier; prints them at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.tests: defaultdict[str, int] = defaultdict(int)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        tier = self.config.stash.get(_TIER_KEY, {}).get(report.nodeid, "other")
        self.seconds[tier] += report.duration
        if report.when == "setup":
            self.tests[tier] += 1

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.tests:
            return
        order = [t for t in TIERS if t in self.tests] + sorted(set(self.tests) - set(TIERS))
        total = sum(self.seconds.values())
        terminalreporter.write_sep("-", "time per tier (setup + call + teardown)")
        terminalreporter.write_line(f"{'tier':<12} {'tests':>6} {'seconds':>9} {'share':>6}")
        for tier in order:
            share = self.seconds[tier] / total if total else 0.0
            terminalreporter.write_line(
                f"{tier:<12} {self.tests[tier]:>6} {self.seconds[tier]:>9.1f} {share:>6.0%}"
            )
        terminalreporter.write_line(f"{'total':<12} {sum(self.tests.values()):>6} {total:>9.1f}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(TierTimings(config), "durableagent-tier-timings")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """Give every test the environment it started with back.

    The local host's bootstrap sets variables for the app it imports
    (``DURABLEAGENT_CONVERSATION_STORE``, ``DURABLEAGENT_LOCAL_HOST``, the app's settings); a test
    that bootstraps in-process must not hand them to the hosts later tests start as subprocesses.
    """
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
