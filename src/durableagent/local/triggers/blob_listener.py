"""The blob trigger: scan the container for new or changed blobs that match the path, fire once each.

Why: it keeps the guarantees of the WebJobs blob trigger (Azure/azure-sdk-for-net sdk/storage/
Microsoft.Azure.WebJobs.Extensions.Storage.Blobs/src/Listeners/BlobReceiptManager.cs and
BlobTriggerExecutor.cs): a blob version (its ETag) runs a function once, recorded by a receipt blob
``azure-webjobs-hosts/blobreceipts/{hostId}/{functionId}/{eTag}/{container}/{blob}`` written in the
same storage account, so a restart does not fire it again and a changed blob (new ETag) fires anew.
A failing blob is retried up to ``maxDequeueCount`` times (the queues setting, as the host's blob
trigger queue uses it), then a message naming it goes to ``webjobs-blobtrigger-poison`` and it is
receipted. Scans back off from 0.5 s to 5 s while nothing is new; a write by this host's blob output
binding to the container wakes the listener (the host's blob-written watcher).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions import meta

from durableagent.local.triggers.invocation import invoke_triggered

if TYPE_CHECKING:
    from azure.storage.blob import BlobProperties
    from azure.storage.blob.aio import BlobServiceClient, ContainerClient
    from azure.storage.queue.aio import QueueServiceClient

    from durableagent.local.host_context import HostContext

log = logging.getLogger("durableagent.local.triggers")
HOSTS_CONTAINER = "azure-webjobs-hosts"
POISON_QUEUE = "webjobs-blobtrigger-poison"
SCAN_MIN_S, SCAN_MAX_S = 0.5, 5.0
STOP_TIMEOUT_S = 10.0
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class BlobPathError(ValueError):
    """The blob trigger's path is not ``container/pattern``."""


def compile_path(path: str) -> tuple[str, str, re.Pattern[str]]:
    """``(container, literal name prefix, regex with one group per {placeholder})`` of a trigger path."""
    container, sep, pattern = path.strip("/").partition("/")
    if not container or "{" in container:
        raise BlobPathError(f"blob trigger path {path!r} must start with a container name")
    if not sep or not pattern:
        pattern = "{name}"  # a bare container: every blob (the host binds {name} then)
    parts, last = [], 0
    placeholders = list(_PLACEHOLDER.finditer(pattern))
    for i, match in enumerate(placeholders):
        parts.append(re.escape(pattern[last : match.start()]))
        greedy = ".+" if i == len(placeholders) - 1 else ".+?"
        parts.append(f"(?P<{re.sub(r'[^A-Za-z0-9_]', '_', match.group(1))}>{greedy})")
        last = match.end()
    parts.append(re.escape(pattern[last:]))
    prefix = pattern[: placeholders[0].start()] if placeholders else pattern
    return container, prefix, re.compile("".join(parts) + r"\Z")


class BlobListener:
    """Runs one blob-triggered function until stopped."""

    def __init__(
        self,
        ctx: HostContext,
        function: Any,
        path: str,
        blobs: BlobServiceClient,
        queues: QueueServiceClient,
        host_id: str,
        max_dequeue_count: int,
    ) -> None:
        """Watch ``path`` (``container/pattern``) in ``blobs``.

        ``host_id`` goes into the receipt paths; a blob that fails ``max_dequeue_count`` times is poisoned
        (a message in ``queues``' ``webjobs-blobtrigger-poison``).
        """
        self.ctx, self.function, self.blobs, self.queues = ctx, function, blobs, queues
        self.name: str = function.get_function_name()
        self.container, self.prefix, self.pattern = compile_path(path)
        self.host_id, self.max_dequeue_count = host_id, max_dequeue_count
        self._done: set[tuple[str, str]] = set()  # (blob name, etag) receipted
        self._failures: dict[tuple[str, str], int] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start scanning (a background task on the running loop)."""
        self._task = asyncio.create_task(self._run(), name=f"blob:{self.name}")

    def notify(self) -> None:
        """This host wrote to the container: scan now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop scanning; a running invocation gets ``STOP_TIMEOUT_S`` to finish."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(self._task, STOP_TIMEOUT_S)

    async def _run(self) -> None:
        delay = SCAN_MIN_S
        while not self._stopping.is_set():
            try:
                found = await self._scan()
            except AzureError as exc:
                log.warning("blob trigger %s: scan failed (%s)", self.name, type(exc).__name__)
                found = False
            delay = SCAN_MIN_S if found else min(delay * 2, SCAN_MAX_S)
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _scan(self) -> bool:
        container = self.blobs.get_container_client(self.container)
        found = False
        try:
            async for blob in container.list_blobs(
                name_starts_with=self.prefix or None, include=["metadata"]
            ):
                if self._stopping.is_set():
                    break
                match = self.pattern.match(blob.name)
                key = (blob.name, str(blob.etag))
                if match is None or key in self._done:
                    continue
                found = await self._handle(container, blob, match) or found
        except ResourceNotFoundError:
            return False  # the container does not exist yet
        return found

    def _receipt(self, blob: BlobProperties) -> Any:
        etag = str(blob.etag).strip('"')
        name = f"blobreceipts/{self.host_id}/Host.Functions.{self.name}/{etag}/{self.container}/{blob.name}"
        return self.blobs.get_blob_client(HOSTS_CONTAINER, name)

    async def _handle(self, container: ContainerClient, blob: BlobProperties, match: re.Match[str]) -> bool:
        key = (blob.name, str(blob.etag))
        receipt = self._receipt(blob)
        with contextlib.suppress(ResourceNotFoundError):
            props = await receipt.get_blob_properties()
            if props.metadata.get("IsCompleted") == "true":
                self._done.add(key)
                return False
        try:
            content = await (await container.download_blob(blob.name)).readall()
        except ResourceNotFoundError:
            return False  # deleted since the listing
        if await self._invoke(container, blob, match, content):
            await self._complete(receipt, key)
            return True
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        if failures >= self.max_dequeue_count:
            await self._poison(blob)
            await self._complete(receipt, key)
        return True

    async def _invoke(
        self, container: ContainerClient, blob: BlobProperties, match: re.Match[str], content: bytes
    ) -> bool:
        properties = {
            "ContentLength": blob.size,
            "ETag": str(blob.etag),
            "LastModified": blob.last_modified.isoformat() if blob.last_modified else None,
            "ContentType": blob.content_settings.content_type if blob.content_settings else None,
            "BlobType": str(getattr(blob.blob_type, "value", blob.blob_type)),
        }
        metadata = {
            "BlobTrigger": meta.Datum(f"{self.container}/{blob.name}", "string"),
            "Uri": meta.Datum(f"{container.url}/{blob.name}", "string"),
            "Properties": meta.Datum(json.dumps(properties), "json"),
            "Metadata": meta.Datum(json.dumps(dict(blob.metadata or {})), "json"),
            **{name: meta.Datum(value, "string") for name, value in match.groupdict().items()},
        }
        try:
            await invoke_triggered(self.ctx, self.function, meta.Datum(content, "bytes"), metadata)
        except Exception as exc:  # noqa: BLE001 - the function failed: retried, then poisoned
            log.error("blob function %s failed for %s (%s)", self.name, blob.name, type(exc).__name__)
            return False
        return True

    async def _complete(self, receipt: Any, key: tuple[str, str]) -> None:
        with contextlib.suppress(ResourceExistsError):
            await self.blobs.create_container(HOSTS_CONTAINER)
        await receipt.upload_blob(b"", overwrite=True, metadata={"IsCompleted": "true"})
        self._done.add(key)
        self._failures.pop(key, None)

    async def _poison(self, blob: BlobProperties) -> None:
        log.warning("blob trigger %s: %s failed %d times; moved to %s", self.name, blob.name,
                    self.max_dequeue_count, POISON_QUEUE)  # fmt: skip
        queue = self.queues.get_queue_client(POISON_QUEUE)
        with contextlib.suppress(ResourceExistsError):
            await queue.create_queue()
        message = {
            "Type": "BlobTrigger",
            "FunctionId": f"Host.Functions.{self.name}",
            "BlobType": "BlockBlob",
            "ContainerName": self.container,
            "BlobName": blob.name,
            "ETag": str(blob.etag),
        }
        # Queue messages the host writes are base64 (messageEncoding's default).
        await queue.send_message(base64.b64encode(json.dumps(message).encode()).decode())
