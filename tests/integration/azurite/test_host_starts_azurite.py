"""``UseDevelopmentStorage=true``: the host starts Azurite on 10000-10002 itself, and stops it with
itself (also when it is SIGKILLed); without Azurite it says the one command that installs it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, QueueMessage, TextBase64DecodePolicy, TextBase64EncodePolicy
from azurite_launcher import AZURITE, missing_reason

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

pytestmark = pytest.mark.integration

STORAGE_APP = Path(__file__).resolve().parents[2] / "apps" / "storage_app"
DEV_PORTS = (10000, 10001, 10002)
DEV = "UseDevelopmentStorage=true"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


@pytest.fixture
def dev_ports_free() -> None:
    busy = [port for port in DEV_PORTS if _listening(port)]
    if busy:
        pytest.skip(f"ports {busy} are in use here (another Azurite?): the host would use that one")


@pytest.mark.azurite
@pytest.mark.usefixtures("dev_ports_free")
def test_host_starts_and_stops_azurite(tmp_path: Path) -> None:
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    env = {
        "AzureWebJobsStorage": DEV,
        "ATTEMPTS_LOG": str(tmp_path / "a.jsonl"),
        "DURABLEAGENT_AZURITE": str(AZURITE),
    }
    host = LocalHost(STORAGE_APP, store=tmp_path / "store.sqlite", env=env)
    host.start()
    try:
        assert "Storage: started Azurite" in host.output()
        assert all(_listening(port) for port in DEV_PORTS)
        orders = QueueClient.from_connection_string(
            DEV, "orders", message_encode_policy=TextBase64EncodePolicy()
        )
        orders.create_queue()
        orders.send_message("dev storage")
        done = QueueClient.from_connection_string(
            DEV, "orders-done", message_decode_policy=TextBase64DecodePolicy()
        )

        def received() -> QueueMessage | None:
            try:
                return next(iter(done.receive_messages()), None)
            except ResourceNotFoundError:  # not created yet by the output binding
                return None

        message = wait_for(received)
        assert '"DEV STORAGE"' in message.content
        host.kill()  # the emulator must not outlive the host
        wait_for(lambda: not any(_listening(port) for port in DEV_PORTS), timeout=15)
        host.restart()  # a fresh emulator (fresh temporary data)
        assert "Storage: started Azurite" in host.output()
    finally:
        host.stop()
    wait_for(lambda: not any(_listening(port) for port in DEV_PORTS), timeout=15)


@pytest.mark.usefixtures("dev_ports_free")
def test_without_azurite_the_banner_says_how_to_install_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-azurite"
    env = {
        "AzureWebJobsStorage": DEV,
        "ATTEMPTS_LOG": str(tmp_path / "a.jsonl"),
        "DURABLEAGENT_AZURITE": str(missing),
    }
    with LocalHost(STORAGE_APP, store=tmp_path / "store.sqlite", env=env) as host:
        out = host.output()
    assert "Azurite is not installed; install it with: npm install -g azurite" in out
    assert "process_order: storage trigger NOT RUN: its storage emulator is not running" in out
