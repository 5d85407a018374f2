"""Start and stop Azurite's table service for tests, on a free loopback port.

Why: the Azure Table conversation store must pass the same contract as the other backends, against
a real Table API, without Azure. Azurite is installed by ``scripts/setup-test-tools`` into
``tools/node``; when it (or Node) is absent, :func:`missing_reason` says why and tests skip.
Azurite runs with in-memory persistence (in a temporary working directory), telemetry off,
listening on 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[3]
AZURITE_TABLE = ROOT / "tools" / "node" / "node_modules" / ".bin" / "azurite-table"
AZURITE = ROOT / "tools" / "node" / "node_modules" / ".bin" / "azurite"  # blob, queue and table services
# Azurite's well-known development account (public, documented; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT = 30.0


def missing_reason() -> str | None:
    """Why Azurite cannot run here, or ``None`` when it can."""
    if shutil.which("node") is None:
        return "Azurite needs Node.js (not on PATH)"
    if not AZURITE_TABLE.exists() or not AZURITE.exists():
        return f"Azurite is not installed ({AZURITE.relative_to(ROOT)}): run scripts/setup-test-tools"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Azurite:
    """A running ``azurite-table`` process."""

    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{DEV_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"TableEndpoint={self.endpoint};"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def start(workdir: Path) -> Azurite:
    """Start Azurite's table service in ``workdir`` and wait until it accepts connections."""
    for _ in range(3):  # another process may grab the free port before Azurite binds it
        port = free_port()
        log_path = workdir / f"azurite-{port}.log"
        log = log_path.open("wb")
        argv = [
            str(AZURITE_TABLE), "--tableHost", "127.0.0.1", "--tablePort", str(port),
            "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
        ]  # fmt: skip
        process = subprocess.Popen(
            argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        server = Azurite(port, process, log, log_path)
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if _listening(port):
                return server
            time.sleep(0.1)  # polling until the port listens (or the process died)
        server.stop()
    raise RuntimeError(
        f"Azurite did not start; see {log_path}: {log_path.read_text(errors='replace')[-2000:]}"
    )


@dataclass
class AzuriteStorage:
    """A running ``azurite`` process with its blob, queue and table services on free ports."""

    ports: dict[str, int]
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path

    @property
    def connection_string(self) -> str:
        endpoints = "".join(
            f"{service.capitalize()}Endpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
            for service, port in self.ports.items()
        )
        return f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};{endpoints}"

    def stop(self) -> None:
        Azurite.stop(self)  # type: ignore[arg-type]  # same fields: process and log


def start_storage(workdir: Path) -> AzuriteStorage:
    """Start Azurite's blob, queue and table services (in memory) and wait until all accept connections."""
    for _ in range(3):  # another process may grab a free port before Azurite binds it
        ports = {"blob": free_port(), "queue": free_port(), "table": free_port()}
        log_path = workdir / f"azurite-{ports['blob']}.log"
        log = log_path.open("wb")
        argv = [
            str(AZURITE),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
        ]
        for service, port in ports.items():
            argv += [f"--{service}Host", "127.0.0.1", f"--{service}Port", str(port)]
        process = subprocess.Popen(
            argv, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        server = AzuriteStorage(ports, process, log, log_path)
        deadline = time.monotonic() + START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if all(_listening(port) for port in ports.values()):
                return server
            time.sleep(0.1)
        server.stop()
    raise RuntimeError(
        f"Azurite did not start; see {log_path}: {log_path.read_text(errors='replace')[-2000:]}"
    )
