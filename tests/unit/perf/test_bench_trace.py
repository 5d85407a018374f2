"""The bench trace: off by default; when on, one line per commit and per reply with a session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from durableagent.local import bench_trace


def test_off_by_default_writes_nothing() -> None:
    if os.environ.get(bench_trace.TRACE_ENV):
        pytest.skip("the bench trace is enabled for this process")
    assert not bench_trace.enabled()
    bench_trace.commit("@agent@s")  # no-op
    bench_trace.reply([(b"x-ms-session-id", b"s")])


def test_lines_when_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "trace.log"
    monkeypatch.setattr(bench_trace, "_fd", bench_trace._open(str(path)))
    try:
        bench_trace.commit("@weatheragent@s1")
        bench_trace.reply([(b"content-type", b"application/json"), (b"x-ms-session-id", b"s1")])
        bench_trace.reply([(b"content-type", b"text/plain")])  # no session: not a turn's reply
    finally:
        os.close(bench_trace._fd)  # type: ignore[arg-type]
    lines = [line.split(" ") for line in path.read_text().splitlines()]
    assert [(kind, subject) for kind, _, subject in lines] == [("C", "@weatheragent@s1"), ("R", "s1")]
    assert int(lines[0][1]) <= int(lines[1][1])
