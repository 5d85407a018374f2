"""Turns of any size: the app's hard cap, and blob storage for records beyond a table entity.

Why: a reply (with its tool results) can be far larger than one Azure Table entity (1 MiB, 64 KiB
per property; ``_table_codec`` chunks a record across properties up to that). Such a record is
stored whole as a block blob and its table row only points at it, so every backend stores any turn
up to the app's cap (``AppOptions.max_reply_bytes``); SQLite and memory store it in the row.

Nothing is half-written:
* the cap is checked (``base.check_turn_size``) before anything is written; a turn over it
  is refused with ``ReplyTooLargeError`` and the entity records only the request's problem;
* on Azure the blob is written before the row that points at it, under a name derived from the
  row's keys, so a crash between the two leaves at most an unreferenced blob that the retry
  overwrites and ``drop_session`` removes with the session's prefix; a reader never sees a row
  whose blob is missing (except after a manual deletion: then :class:`StoreError`).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from durableagent.conversation._table_codec import CLIENT_OPTIONS, turn_text
from durableagent.conversation.base import StoreError

# Blocks of 1 MiB: aiohttp writes a larger bytes body in one blocking call (and warns about it).
BLOB_OPTIONS: dict[str, Any] = {**CLIENT_OPTIONS, "max_single_put_size": 2**20, "max_block_size": 2**20}
UPLOAD_CONCURRENCY = 4
BLOB_FORMAT = 2
"""``v`` of a table row whose record is in a blob (``_table_codec.FORMAT_VERSION`` is inline)."""


def blob_name(partition: str, row: str) -> str:
    """The blob of the record in row ``(partition, row)``: keys are ``[A-Za-z0-9_.:~-]`` only."""
    return f"{partition}/{row}.json"


def container_name(table_name: str) -> str:
    """The container of a transcript table's large records (table names are alphanumeric)."""
    return table_name.lower()


def pointer_entity(partition: str, row: str, size: int) -> dict[str, Any]:
    """The table row of a record kept in its blob."""
    return {"PartitionKey": partition, "RowKey": row, "v": BLOB_FORMAT, "n": 0, "bytes": size}


class BlobRecords:
    """Large turn records as block blobs of one container (created on first write)."""

    def __init__(self, service: BlobServiceClient, container: str) -> None:
        """Use ``service`` (closed by :meth:`aclose`) and the container named ``container``."""
        self._service = service
        self._container: ContainerClient = service.get_container_client(container)
        self._created = False
        self._creating = asyncio.Lock()

    async def _ensure(self) -> None:
        if self._created:
            return
        async with self._creating:
            if not self._created:
                with suppress(ResourceExistsError):
                    await self._container.create_container()
                self._created = True

    async def put(self, name: str, text: str) -> int:
        """Write (or overwrite) the blob; returns its size in bytes."""
        await self._ensure()
        data = text.encode("utf-8", "surrogatepass")
        await self._container.upload_blob(
            name, io.BytesIO(data), length=len(data), overwrite=True, max_concurrency=UPLOAD_CONCURRENCY
        )
        return len(data)

    async def get(self, name: str) -> str:
        """The record's JSON.

        Raises:
            StoreError: the blob a row points at is missing.
        """
        try:
            downloader = await self._container.download_blob(name)
        except ResourceNotFoundError:
            raise StoreError(f"the blob of transcript row {name!r} is missing") from None
        data: bytes = await downloader.readall()
        return data.decode("utf-8", "surrogatepass")

    async def delete_prefix(self, prefix: str) -> None:
        """Delete every blob whose name starts with ``prefix`` (nothing when the container is absent)."""
        try:
            names = [blob.name async for blob in self._container.list_blobs(name_starts_with=prefix)]
        except ResourceNotFoundError:
            return
        for name in names:
            with suppress(ResourceNotFoundError):
                await self._container.delete_blob(name)

    async def aclose(self) -> None:
        """Close the container and service clients."""
        await self._container.close()
        await self._service.close()


async def record_text(blobs: BlobRecords | None, partition: str, row: Mapping[str, Any]) -> str:
    """A turn row's record JSON: its inline chunks, or the blob it points at."""
    if row.get("v") != BLOB_FORMAT:
        return turn_text(row)
    if blobs is None:
        raise StoreError("a transcript row is in blob storage, but this store has no blob endpoint")
    return await blobs.get(blob_name(partition, str(row["RowKey"])))
