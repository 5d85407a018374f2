"""Start Azurite (the Azure Storage emulator) for the app when its storage is local and nobody serves it.

Why: ``func start`` expects the developer to run Azurite; the local host does it for them when it can.
For ``UseDevelopmentStorage=true`` (or a connection string whose blob, queue and table endpoints are
all on loopback), if none of the ports is listening and an ``azurite`` executable is found, the host
starts it on exactly those ports with its data in a private temporary directory (removed at stop).
If every port already listens, that emulator is used. Otherwise the error says the one command that
installs Azurite. The child gets SIGTERM when the host dies (``PR_SET_PDEATHSIG``, set by a tiny
``exec`` shim), so a SIGKILLed host leaves no emulator behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_COMMAND = "npm install -g azurite"
START_TIMEOUT_S = 30.0
ENV_EXECUTABLE = "DURABLEAGENT_AZURITE"
# Sets "send me SIGTERM when my parent dies" (prctl option 1), then becomes Azurite.
_SHIM = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


class AzuriteUnavailable(RuntimeError):
    """Storage is local but no emulator serves it and none can be started (message says what to do)."""


def find_executable() -> str | None:
    """``$DURABLEAGENT_AZURITE``, ``azurite`` on PATH, or a checkout's ``tools/node`` (setup-test-tools)."""
    configured = os.environ.get(ENV_EXECUTABLE)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    on_path = shutil.which("azurite")
    if on_path:
        return on_path
    for root in (Path.cwd(), Path(__file__).resolve().parents[4]):
        candidate = root / "tools" / "node" / "node_modules" / ".bin" / "azurite"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def listening(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


@dataclass
class RunningAzurite:
    """An Azurite process this host started, and its private data directory."""

    process: subprocess.Popen[bytes]
    location: Path

    async def stop(self) -> None:
        """Terminate Azurite (kill it after 10 s) and remove its data directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 10)
        shutil.rmtree(self.location, ignore_errors=True)


async def ensure_running(endpoints: dict[str, tuple[str, int]]) -> RunningAzurite | None:
    """Make sure an emulator serves ``endpoints``; returns the process when this host started it."""
    up = {service: listening(*address) for service, address in endpoints.items()}
    if all(up.values()):
        return None
    described = ", ".join(f"{s} {h}:{p}" for s, (h, p) in sorted(endpoints.items()))
    if any(up.values()) or set(endpoints) != {"blob", "queue", "table"}:
        raise AzuriteUnavailable(
            f"storage emulator endpoints ({described}) are only partly served; start Azurite for all of them"
        )
    executable = find_executable()
    if executable is None:
        raise AzuriteUnavailable(
            f"nothing listens on the storage emulator's ports ({described}) and Azurite is not installed; "
            f"install it with: {INSTALL_COMMAND}"
        )
    location = Path(tempfile.mkdtemp(prefix="durableagent-azurite-"))
    argv = [executable, "--location", str(location), "--skipApiVersionCheck", "--loose", "--disableTelemetry"]
    for service, (host, port) in endpoints.items():
        argv += [f"--{service}Host", host, f"--{service}Port", str(port)]
    log = (location / "azurite.log").open("wb")
    process = subprocess.Popen(  # noqa: ASYNC220 - Popen returns at once; the wait below is async
        [sys.executable, "-c", _SHIM, *argv], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    log.close()
    running = RunningAzurite(process, location)
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    while process.poll() is None and asyncio.get_running_loop().time() < deadline:
        if all(listening(*address) for address in endpoints.values()):
            return running
        await asyncio.sleep(0.1)
    tail = ""
    with contextlib.suppress(OSError):
        tail = (location / "azurite.log").read_text(errors="replace")[-500:]
    await running.stop()
    raise AzuriteUnavailable(f"Azurite did not start on {described}: {tail.strip() or 'no output'}")
