"""Starting and stopping the peers' server processes: free loopback ports, logs to files, waiting on
an answer (never a fixed sleep), and stopping only the processes started here."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.client import RawClient


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(
    argv: Sequence[str], log: Path, *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with its output in ``log`` (environment: ours plus ``env``)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            list(argv), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )


def wait_ok(
    port: int, path: str, proc: subprocess.Popen[bytes], log: Path, *, timeout: float = 60,
    method: str = "GET", body: bytes = b"", headers: Mapping[str, str] | None = None,
    ok: Sequence[int] = (200,),
) -> tuple[int, bytes]:  # fmt: skip
    """Retry ``method path`` on 127.0.0.1:``port`` until its status is in ``ok``; ``(status, body)``."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerFailed(f"{proc.args!r} exited with {proc.returncode}; see {log}")
        try:
            client = RawClient("127.0.0.1", port, timeout=5)
            try:
                status, _, data = client.request(method, path, body, headers)
            finally:
                client.close()
            if status in ok:
                return status, data
            last = f"{status} {data[:120]!r}"
        except OSError as exc:
            last = type(exc).__name__
        time.sleep(0.05)
    raise ServerFailed(f"{method} {path} on port {port} not ok within {timeout} s (last: {last}); see {log}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` s; only this process (it was started here)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
