"""Crash and restart: every acknowledged signal survives SIGKILL and crash points, exactly once."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

from .conftest import PLAIN_DF

WEBHOOK = "/runtime/webhooks/durabletask"


def _signal(
    http: httpx.Client, host: LocalHost, key: str, op: str, value: Any, *, tolerate: bool = False
) -> int:
    """POST a signal as DurableOrchestrationClient.signal_entity does (json.dumps(input), JSON-encoded
    again); returns the status, or 0 when ``tolerate`` and the host died before answering."""
    try:
        resp = http.post(
            f"{WEBHOOK}/entities/Counter/{key}",
            params={"op": op, "code": host.system_key or ""},
            content=json.dumps(json.dumps(value)),
            headers={"content-type": "application/json"},
        )
    except httpx.TransportError:
        if not tolerate:
            raise
        return 0
    return resp.status_code


def _state(http: httpx.Client, host: LocalHost, key: str) -> Any:
    resp = http.get(f"{WEBHOOK}/entities/Counter/{key}", params={"code": host.system_key or ""})
    return resp.json() if resp.status_code == 200 else None


def _markers(http: httpx.Client, host: LocalHost, key: str) -> list[str]:
    state = _state(http, host, key) or {"log": []}
    return [entry[1] for entry in state["log"] if entry[0] == "append"]


def _settled_markers(http: httpx.Client, host: LocalHost, key: str) -> list[str]:
    """The entity's markers once everything already in its mailbox was applied.

    An entity applies its mailbox in order, so once a sentinel signalled now shows up, nothing that
    was queued before it (a redelivered duplicate, say) can still arrive: no fixed wait needed.
    The sentinel must be applied once and last; the markers before it are returned.
    """
    sentinel = f"sentinel-{uuid.uuid4().hex[:8]}"
    assert _signal(http, host, key, "append", sentinel) == 202
    markers: list[str] = wait_for(lambda: (m := _markers(http, host, key)) and sentinel in m and m)
    assert markers.count(sentinel) == 1, markers
    assert markers[-1] == sentinel, markers
    return markers[:-1]


def _batch_started(host: LocalHost, key: str) -> bool:
    """The Counter's ``slow`` operation printed that it started (tests/apps/plain_df)."""
    return f"Counter@{key}: slow operation started" in host.output()


def _integrity(store: Path) -> tuple[str, str]:
    conn = sqlite3.connect(store)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0], conn.execute(
            "PRAGMA journal_mode"
        ).fetchone()[0]
    finally:
        conn.close()


def test_sigkill_right_after_the_acks_loses_nothing(
    local_host: Callable[..., LocalHost], tmp_path: Path
) -> None:
    store = tmp_path / "kill.sqlite"
    host = local_host(PLAIN_DF, store=store)
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert _signal(http, host, "k9", "slow", 1.0) == 202  # keeps the rest queued in the mailbox
        acked = [f"s{i}" for i in range(25) if _signal(http, host, "k9", "append", f"s{i}") == 202]
    assert len(acked) == 25
    host.kill()
    assert _integrity(store) == ("ok", "wal")
    host.restart()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert _settled_markers(http, host, "k9") == acked
    host.stop()
    assert _integrity(store) == ("ok", "wal")


@pytest.mark.parametrize("point", ["host.entity.in_commit", "host.entity.after_commit"])
def test_crash_inside_and_after_the_batch_commit(
    local_host: Callable[..., LocalHost], tmp_path: Path, point: str
) -> None:
    store = tmp_path / "crash.sqlite"
    host = local_host(PLAIN_DF, store=store, env={"DURABLEAGENT_CRASH_AT": point})
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        statuses = [_signal(http, host, "c1", "append", f"x{i}", tolerate=True) for i in range(3)]
    assert host.wait_exit(30) == 137
    acked = [f"x{i}" for i, status in enumerate(statuses) if status == 202]
    assert acked, statuses
    assert _integrity(store) == ("ok", "wal")
    host.restart(DURABLEAGENT_CRASH_AT="")
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        markers = _settled_markers(http, host, "c1")
    # Every acknowledged signal applied exactly once and in order (unacknowledged ones at most once).
    assert sorted(set(markers)) == sorted(markers)
    assert [m for m in markers if m in acked] == acked


def test_crash_after_a_signal_commit_before_the_ack(
    local_host: Callable[..., LocalHost], tmp_path: Path
) -> None:
    host = local_host(
        PLAIN_DF, store=tmp_path / "ack.sqlite", env={"DURABLEAGENT_CRASH_AT": "host.signal.after_commit"}
    )
    with httpx.Client(base_url=host.base_url, timeout=30) as http, pytest.raises(httpx.HTTPError):
        _signal(http, host, "a1", "append", "unacked")
    assert host.wait_exit(30) == 137
    host.restart(DURABLEAGENT_CRASH_AT="")
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        # Committed before the crash, so it is delivered although the client never saw a 202.
        assert wait_for(lambda: _markers(http, host, "a1")) == ["unacked"]


def test_a_second_host_on_the_same_store_fails_fast(
    local_host: Callable[..., LocalHost], tmp_path: Path
) -> None:
    store = tmp_path / "shared.sqlite"
    local_host(PLAIN_DF, store=store)
    second = LocalHost(PLAIN_DF, store=store)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="in use by another durableagent host"):
        second.start()
    assert time.monotonic() - started < 10
    assert second.returncode is None or second.returncode == 1


def test_sigterm_is_graceful(local_host: Callable[..., LocalHost], tmp_path: Path) -> None:
    store = tmp_path / "term.sqlite"
    host = local_host(PLAIN_DF, store=store)
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert _signal(http, host, "t1", "append", "before-stop") == 202
        wait_for(lambda: _markers(http, host, "t1"))
    assert host.stop() == 0
    assert "Traceback" not in host.output()
    assert not Path(str(store) + "-wal").exists() or Path(str(store) + "-wal").stat().st_size == 0
    host.restart()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert _markers(http, host, "t1") == ["before-stop"]


def test_sigterm_waits_for_a_running_batch(local_host: Callable[..., LocalHost], tmp_path: Path) -> None:
    host = local_host(PLAIN_DF, store=tmp_path / "drain.sqlite")
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert _signal(http, host, "d1", "slow", 1.0) == 202
        wait_for(lambda: _batch_started(host, "d1"))
    assert host.stop() == 0
    host.restart()
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        state = _state(http, host, "d1")
    assert [entry[0] for entry in state["log"]] == ["slow"]


def test_sigterm_leaves_a_batch_that_outlives_the_timeout_in_the_mailbox(
    local_host: Callable[..., LocalHost], tmp_path: Path
) -> None:
    host = local_host(PLAIN_DF, store=tmp_path / "slow.sqlite", extra_args=["--shutdown-timeout", "0.5"])
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert _signal(http, host, "d2", "slow", 4.0) == 202
        wait_for(lambda: _batch_started(host, "d2"))
    started = time.monotonic()
    assert host.stop() == 0
    assert time.monotonic() - started < 3.5
    host.restart()  # the batch was not committed: it is delivered again
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        state = wait_for(lambda: _state(http, host, "d2"), timeout=15)
    assert [entry[0] for entry in state["log"]] == ["slow"]
