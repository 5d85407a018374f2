"""Issue 11.5 on a real full disk: the host's store on a 8 MiB tmpfs that a filler file fills up.

Needs root (``mount -t tmpfs``); skipped elsewhere. While the disk is full every turn answers a
503 problem with ``Retry-After`` (never a 500, never a 202 for a turn whose commit failed), the log
carries exception types only, a few lines in all; once space returns the host recovers by itself,
nothing acknowledged is lost, and the WAL is checkpointed back down.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

from .conftest import SAMPLE

RUN = "/api/agents/WeatherAgent/run"
# A reply of ~64 KiB (the offline model fills the schema): the turn's writes need space a signal does not.
BIG = {
    "type": "object",
    "properties": {"t": {"type": "array", "minItems": 64, "items": {"type": "string", "minLength": 1024}}},
}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """Write a filler file until the disk is full, then give back ``leave`` bytes."""
    filler = disk / "filler"
    with open(filler, "wb") as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def _answered(http: httpx.Client, body: dict[str, object], key: str) -> httpx.Response | None:
    r = http.post(RUN, json=body, headers={"Idempotency-Key": key})
    return r if r.status_code == 200 else None


@pytest.mark.parametrize("leave", [0, 150_000], ids=["signals-fail", "turn-writes-fail"])
def test_a_full_disk_answers_503_then_recovers(small_disk: Path, leave: int) -> None:
    host = LocalHost(SAMPLE, store=small_disk / "store.sqlite")
    host.start()
    wal = small_disk / "store.sqlite-wal"
    try:
        with httpx.Client(base_url=host.url(""), timeout=60) as http:
            kept = uuid.uuid4().hex
            assert http.post(RUN, json={"message": "before", "sessionId": kept}).status_code == 200
            filler = _fill(small_disk, leave)
            sent: list[tuple[str, str]] = []
            for i in range(12):
                session = kept if i % 2 else uuid.uuid4().hex
                key = f"full-{leave}-{i}"
                r = http.post(
                    RUN,
                    json={"message": f"while full {i}", "sessionId": session, "response_schema": BIG},
                    headers={"Idempotency-Key": key},
                )
                assert r.status_code == 503, r.text
                assert r.headers["content-type"] == "application/problem+json"
                assert r.headers["retry-after"] == "5"
                assert r.json()["type"].endswith("/store-unavailable")
                sent.append((session, key))
            full_wal = wal.stat().st_size
            os.remove(filler)  # space returns
            if leave == 0:  # nothing is stuck: the first turn after the failures truncates the WAL
                assert (
                    http.post(RUN, json={"message": "small", "sessionId": uuid.uuid4().hex}).status_code
                    == 200
                )
                assert wal.stat().st_size < full_wal  # a WAL file shrinks only by a TRUNCATE checkpoint
            for session, key in sent:  # every retry with its key ends with the turn's one answer
                body = {
                    "message": f"while full {key.rsplit('-', 1)[1]}",
                    "sessionId": session,
                    "response_schema": BIG,
                }
                done = wait_for(lambda b=body, k=key: _answered(http, b, k), 60, interval=0.5)
                assert done.json()["status"] == "success"
            history = http.get(f"/api/agents/WeatherAgent/{kept}").json()
            users = [e["content"] for e in history["conversation_history"] if e["role"] == "user"]
            assert users[0] == "before"
            assert len(users) == len(set(users)) == 7  # nothing lost or doubled
    finally:
        host.stop()
    log = host.output()
    assert "the WAL was checkpointed and truncated" in log
    assert "Traceback" not in log  # types only, never a traceback or the exception's text
    assert "disk is full" not in log
    failures = [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]
    assert 1 <= len(failures) <= 8, failures  # throttled: one line per kind, not one per retry
