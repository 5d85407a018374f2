"""Queue, blob and table triggers and bindings on the local host, end to end against Azurite.

The test starts Azurite (blob, queue, table) on free ports and hands the host a connection string;
it talks to the same Azurite with the Azure SDKs, as an app's other components would. Queue messages
are base64, as the Functions queue extension reads and writes them by default.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy
from azurite_launcher import AzuriteStorage

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

STORAGE_APP = Path(__file__).resolve().parents[2] / "apps" / "storage_app"


class Storage:
    def __init__(self, conn: str) -> None:
        self.conn = conn
        self.blobs = BlobServiceClient.from_connection_string(conn)

    def queue(self, name: str) -> QueueClient:
        return QueueClient.from_connection_string(
            self.conn, name,
            message_encode_policy=TextBase64EncodePolicy(), message_decode_policy=TextBase64DecodePolicy(),
        )  # fmt: skip

    def send(self, queue: str, text: str) -> None:
        client = self.queue(queue)
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
        client.send_message(text)

    def take(self, queue: str) -> list[str]:
        """Receive and delete what is visible in ``queue`` now."""
        client = self.queue(queue)
        try:
            messages = list(client.receive_messages(max_messages=32, visibility_timeout=30))
        except ResourceNotFoundError:  # the queue does not exist yet
            return []
        for m in messages:
            client.delete_message(m)
        return [m.content for m in messages]

    def blob(self, container: str, name: str) -> bytes | None:
        try:
            return self.blobs.get_blob_client(container, name).download_blob().readall()
        except ResourceNotFoundError:  # not there (yet)
            return None

    def receipted(self, container: str, name: str) -> bool:
        """Whether a completed blob-trigger receipt for ``container/name`` is in azure-webjobs-hosts."""
        hosts = self.blobs.get_container_client("azure-webjobs-hosts")
        try:
            receipts = list(hosts.list_blobs(name_starts_with="blobreceipts/", include=["metadata"]))
        except ResourceNotFoundError:
            return False
        suffix = f"/{container}/{name}"
        done = [r for r in receipts if (r.metadata or {}).get("IsCompleted") == "true"]
        return any(r.name.endswith(suffix) for r in done)

    def upload(self, container: str, name: str, data: bytes) -> None:
        with contextlib.suppress(ResourceExistsError):
            self.blobs.create_container(container)
        self.blobs.get_blob_client(container, name).upload_blob(data, overwrite=True)


def _attempts(path: Path, function: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line for line in lines if line["function"] == function]


@pytest.fixture(scope="module")
def attempts_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storage-app") / "attempts.jsonl"


@pytest.fixture(scope="module")
def host(
    azurite_storage: AzuriteStorage, attempts_log: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalHost]:
    env = {"AzureWebJobsStorage": azurite_storage.connection_string, "ATTEMPTS_LOG": str(attempts_log)}
    store = tmp_path_factory.mktemp("storage-store") / "store.sqlite"
    with LocalHost(STORAGE_APP, store=store, env=env) as running:
        yield running


@pytest.fixture(scope="module")
def storage(azurite_storage: AzuriteStorage) -> Storage:
    return Storage(azurite_storage.connection_string)


def test_banner_lists_storage_triggers(host: LocalHost) -> None:
    out = host.output()
    assert "process_order: queueTrigger (queue 'orders')" in out
    assert "on_upload: blobTrigger (path in container 'uploads')" in out
    assert "not provided locally" not in out  # blob and table inputs are provided


def test_queue_trigger_to_queue_output(host: LocalHost, storage: Storage) -> None:
    storage.send("orders", "hello")
    done = wait_for(lambda: storage.take("orders-done"))
    assert len(done) == 1
    result = json.loads(done[0])
    assert result["body"] == "HELLO"
    assert result["dequeue_count"] == 1
    assert result["id"]


def test_failed_message_is_retried_after_visibility_timeout(host: LocalHost, storage: Storage) -> None:
    storage.send("flaky", "x")
    assert wait_for(lambda: storage.take("flaky-done")) == ["done after 2"]  # a $return queue output


def test_poison_after_max_dequeue_count(host: LocalHost, storage: Storage, attempts_log: Path) -> None:
    storage.send("orders", "fail-7")
    poisoned = wait_for(lambda: storage.take("orders-poison"), timeout=30)
    assert poisoned == ["fail-7"]
    tries = [a["dequeue_count"] for a in _attempts(attempts_log, "process_order") if a["body"] == "fail-7"]
    assert tries == [1, 2, 3]  # host.json maxDequeueCount 3
    assert storage.take("orders") == []
    assert storage.take("orders-done") == []


def test_blob_trigger_to_blob_output_fires_once_per_version(
    host: LocalHost, storage: Storage, attempts_log: Path
) -> None:
    storage.upload("uploads", "a/first.txt", b"first")
    assert wait_for(lambda: storage.blob("processed", "a/first.txt")) == b"FIRST"
    seen = _attempts(attempts_log, "on_upload")
    assert seen == [{"function": "on_upload", "name": "uploads/a/first.txt", "length": 5}]
    # A later blob is found by a scan that lists the first one again: it does not fire twice.
    storage.upload("uploads", "second.txt", b"second")
    assert wait_for(lambda: storage.blob("processed", "second.txt")) == b"SECOND"
    assert [a["name"] for a in _attempts(attempts_log, "on_upload")].count("uploads/a/first.txt") == 1
    # Across a SIGKILL and a restart the receipts (in the storage account) still hold. A receipt is
    # written after its function returns (BlobTriggerExecutor: at-least-once, as on Azure), so the
    # kill waits until both are observable.
    assert wait_for(lambda: storage.receipted("uploads", "second.txt") or None)
    assert storage.receipted("uploads", "a/first.txt")
    host.kill()
    host.start()
    storage.upload("uploads", "third.txt", b"third")
    assert wait_for(lambda: storage.blob("processed", "third.txt")) == b"THIRD"
    names = [a["name"] for a in _attempts(attempts_log, "on_upload")]
    assert names == ["uploads/a/first.txt", "uploads/second.txt", "uploads/third.txt"]
    # A changed blob (new ETag) fires again.
    storage.upload("uploads", "second.txt", b"changed")
    assert wait_for(lambda: storage.blob("processed", "second.txt") == b"CHANGED")


def test_failing_blob_goes_to_the_blob_poison_queue(
    host: LocalHost, storage: Storage, attempts_log: Path
) -> None:
    storage.upload("broken-uploads", "bad.bin", b"x")
    poisoned = wait_for(lambda: storage.take("webjobs-blobtrigger-poison"), timeout=60)
    message = json.loads(poisoned[0])
    assert {k: message[k] for k in ("Type", "FunctionId", "ContainerName", "BlobName")} == {
        "Type": "BlobTrigger", "FunctionId": "Host.Functions.always_fails",
        "ContainerName": "broken-uploads", "BlobName": "bad.bin",
    }  # fmt: skip
    assert len(_attempts(attempts_log, "always_fails")) == 3  # maxDequeueCount, then receipted


def test_blob_input_over_http(host: LocalHost, storage: Storage) -> None:
    storage.upload("processed", "direct.txt", b"direct content")
    with httpx.Client(base_url=host.base_url) as http:
        assert http.get("/api/processed/direct.txt").text == "direct content"
        assert http.get("/api/processed/missing.txt").status_code == 404


def test_table_output_then_input(host: LocalHost) -> None:
    with httpx.Client(base_url=host.base_url) as http:
        assert http.put("/api/items/42", json={"name": "lamp", "price": 12}).status_code == 204
        assert http.put("/api/items/7", json={"name": "desk", "price": 99}).status_code == 204
        item = http.get("/api/items/42").json()
        assert {k: item[k] for k in ("PartitionKey", "RowKey", "Name", "Price")} == {
            "PartitionKey": "catalog", "RowKey": "42", "Name": "lamp", "Price": 12,
        }  # fmt: skip
        assert "Timestamp" in item
        assert http.get("/api/items/nope").status_code == 404
        listed = http.get("/api/items").json()
        assert sorted(e["RowKey"] for e in listed) == ["42", "7"]
        # The same key again replaces the entity.
        assert http.put("/api/items/42", json={"name": "lamp", "price": 10}).status_code == 204
        assert http.get("/api/items/42").json()["Price"] == 10
