"""``logs.Throttle``: one line per kind of failure per interval, and the next one counts the skipped."""

from __future__ import annotations

import logging

import pytest

from durableagent.logs import Throttle


def test_one_line_per_key_per_interval(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr("durableagent.logs.time.monotonic", lambda: now[0])
    throttle = Throttle(every=60)
    log = logging.getLogger("test.throttle")
    with caplog.at_level(logging.WARNING, logger="test.throttle"):
        assert throttle.log(log, logging.WARNING, "full", "store failed (%s)", "OperationalError")
        for _ in range(100):  # a stuck session retrying once a second
            now[0] += 0.5
            assert not throttle.log(log, logging.WARNING, "full", "store failed (%s)", "OperationalError")
        assert throttle.log(log, logging.WARNING, "other", "another kind")  # keys are independent
        now[0] += 60
        assert throttle.log(log, logging.WARNING, "full", "store failed (%s)", "OperationalError")
    assert [r.getMessage() for r in caplog.records] == [
        "store failed (OperationalError)",
        "another kind",
        "store failed (OperationalError) (100 similar line(s) skipped in the last 60 s)",
    ]
