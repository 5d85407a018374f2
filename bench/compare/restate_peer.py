"""Restate as a peer: ``restate-server`` from npm (it ships the Linux binary), a Python service with
``restate-sdk`` on hypercorn (peer_apps/restate_service.py: one virtual object per session, its
history in the object's state, the model call in ``ctx.run_typed``), registered through the admin
API; clients call the ingress (``POST /Session/<session>/turn``).

Set up as Restate's docs and Python template do: default server configuration (bound to loopback
with ``--bind-ip 127.0.0.1`` and free ports, a temporary data directory, telemetry off), the
service on a single hypercorn process with its default settings. The server asks GitHub for its
latest release at startup whatever the configuration (restatedev/restate server/src/main.rs spawns
``build_info::check_if_latest_version``); when this runs as root it is started in a private mount
namespace whose /etc/hosts sends that name (and the telemetry host) to 127.0.0.1, so no request
leaves the machine. Nothing else about the server changes.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import machine, slow, suite
from bench.compare import servers, tools, venvs
from bench.shapes import RESTATE

NAME = "Restate"
PACKAGES = ["restate-sdk", "hypercorn"]
NPM = "@restatedev/restate-server"
BINARY = "@restatedev/restate-server-linux-x64/bin/restate-server"
APPS = Path(__file__).resolve().parent / "peer_apps"
OUTBOUND_NAMES = ("api.github.com", "restate.gateway.scarf.sh")
LATENCY_ENV = "DURABLEAGENT_OFFLINE_LATENCY_MS"


def _sandboxed(argv: list[str], work: Path) -> tuple[list[str], bool]:
    """``argv`` run with /etc/hosts sending ``OUTBOUND_NAMES`` to loopback, where that is possible."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        return argv, False
    hosts = work / "restate-hosts"
    original = Path("/etc/hosts").read_text(encoding="utf-8", errors="replace")
    hosts.write_text(original + "".join(f"\n127.0.0.1 {name}" for name in OUTBOUND_NAMES) + "\n")
    script = f'mount --bind "{hosts}" /etc/hosts && exec "$@"'
    return [unshare, "--mount", "sh", "-c", script, "restate-server", *argv], True


class Restate:
    """A running server + service pair (see ``running``)."""

    def __init__(self, ingress: int, pids: list[int], startup_s: float, sandboxed: bool) -> None:
        self.port, self.pids, self.startup_s, self.sandboxed = ingress, pids, startup_s, sandboxed


@contextmanager
def running(binary: Path, python: Path, work: Path, name: str, latency_ms: int = 0) -> Iterator[Restate]:
    """Start the server (fresh data dir) and the service, register it; stop both afterwards."""
    data = work / f"restate-{name}"
    data.mkdir(parents=True)
    ingress, admin, fabric, service = (servers.free_port() for _ in range(4))
    env = {
        "RESTATE_INGRESS__BIND_PORT": str(ingress),
        "RESTATE_ADMIN__BIND_PORT": str(admin),
        "RESTATE_DISABLE_TELEMETRY": "true",
    }
    argv = [str(binary), "--bind-ip", "127.0.0.1", "--bind-port", str(fabric), "--base-dir", str(data)]
    argv, sandboxed = _sandboxed([*argv, "--no-logo", "--log-disable-ansi-codes", "true"], work)
    started = time.perf_counter()
    server_log, service_log = data / "server.log", data / "service.log"
    server = servers.launch(argv, server_log, env=env)
    svc = servers.launch(
        [str(python), "-m", "hypercorn", "--bind", f"127.0.0.1:{service}", "restate_service:app"],
        service_log,
        cwd=APPS,
        env={LATENCY_ENV: str(latency_ms)},
    )
    try:
        servers.wait_ok(admin, "/health", server, server_log)
        servers.wait_ok(service, "/health", svc, service_log, ok=(200, 404))  # hypercorn is listening
        uri = f'{{"uri": "http://127.0.0.1:{service}"}}'.encode()
        servers.wait_ok(
            admin, "/deployments", server, server_log, method="POST", body=uri,
            headers={"content-type": "application/json"}, ok=(200, 201),
        )  # fmt: skip
        method, path, body, headers = RESTATE.turn("startup-probe", "hello")
        servers.wait_ok(ingress, path, server, server_log, method=method, body=body, headers=headers)
        startup = time.perf_counter() - started
        yield Restate(ingress, [server.pid, svc.pid], startup, sandboxed)
    finally:
        servers.stop(svc)
        servers.stop(server, timeout=70)  # its own drain timeout is 1 min


def _version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False).stdout
    return out.strip().removeprefix("restate-server ") or "?"


def run(work: Path, params: dict[str, int]) -> dict[str, Any]:
    """Install, then the standard suite and the slow-model workloads on Restate."""
    binary = tools.ensure_npm("restate", NPM, BINARY)
    python = venvs.ensure("restate", PACKAGES)
    versions = {"server": _version(binary), "sdk": venvs.version_of(python, "restate-sdk")}
    versions["hypercorn"] = venvs.version_of(python, "hypercorn")
    load_before = machine.load1()
    startups = []
    for i in range(2):
        with running(binary, python, work, f"start{i}") as peer:
            startups.append(peer.startup_s)
    with running(binary, python, work, "main") as peer:
        startups.append(peer.startup_s)
        doc = suite.standard(peer.port, RESTATE, peer.pids, params)
        sandboxed = peer.sandboxed
    starts = iter(range(2))

    @contextmanager
    def start_slow() -> Iterator[tuple[int, list[int]]]:
        with running(binary, python, work, f"slow{next(starts)}", params["latency_ms"]) as peer:
            yield peer.port, peer.pids

    doc["slow"] = slow.standard(start_slow, RESTATE, params)
    doc["load"] = {"before": load_before, "after": machine.load1()}
    doc["startup"] = {
        "median_s": round(statistics.median(startups), 3),
        "samples_s": [round(s, 3) for s in startups],
    }
    return {
        "name": NAME,
        "peer": "restate",
        "version": f"restate-server {versions['server']}, restate-sdk {versions['sdk']}",
        "versions": versions,
        "setup": "virtual object per session (history in its state), model call in ctx.run_typed; "
        "ingress HTTP; service on hypercorn (1 process, defaults)",
        "version_check_sandboxed": sandboxed,
        **doc,
    }
