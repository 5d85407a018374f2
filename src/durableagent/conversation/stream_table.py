"""The stream log in the Azure Table conversation store's table: streams served by any instance.

Keys (next to the transcript rows of ``_table_codec``): PartitionKey ``{agent}~{session}`` (the
session's partition, so ``drop_session`` sweeps its logs too); event rows RowKey
``~s~{request_id}~{seq:010d}`` and the finish row ``~e~{request_id}`` (``~`` sorts after every
identifier character: these never fall into a transcript range ``{incarnation}~...`` or a ledger row
``req~...``). An append is one entity group transaction (at most 100 rows, one partition): all or
nothing, an upsert. Readers in this process are woken (``stream_hub``); others poll.

Trimming: ``finish`` stores the expiry in the finish row; at most every :data:`TRIM_INTERVAL`
seconds per process, a query over the finish rows of the whole table finds the expired logs and
deletes them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from durableagent.conversation import stream_hub
from durableagent.conversation._table_codec import TRANSACTION_SIZE, partition_key, translated_errors
from durableagent.conversation.stream_base import StreamEntry, StreamKey, expiry

if TYPE_CHECKING:
    from durableagent.conversation.azure_table import AzureTableConversationStore

TRIM_INTERVAL = 60.0
_LAST_SEQ = 9_999_999_999


def _row(key: StreamKey, seq: int) -> str:
    return f"~s~{key.request_id}~{seq:010d}"


def _entry(row: dict[str, Any]) -> StreamEntry:
    return StreamEntry(int(row["seq"]), str(row["data"]), bool(row.get("terminal", False)))


class AzureTableStreamLog:
    """The stream logs of one :class:`AzureTableConversationStore` (its table and client)."""

    any_loop = False

    def __init__(self, store: AzureTableConversationStore) -> None:
        """Share ``store``'s table client."""
        self.store = store
        self.trim_interval = TRIM_INTERVAL
        self._trimmed = 0.0

    async def append(self, key: StreamKey, entries: Sequence[StreamEntry]) -> None:
        """Upsert ``entries`` in transactions of up to 100 rows, then wake this process's readers."""
        table = await self.store._client()  # the log is part of the store (same package)
        pk = partition_key(key.agent, key.session)
        ops: list[Any] = [
            (
                "upsert",
                {
                    "PartitionKey": pk,
                    "RowKey": _row(key, e.seq),
                    "seq": e.seq,
                    "data": e.data,
                    "terminal": e.terminal,
                },
                {"mode": UpdateMode.REPLACE},
            )
            for e in entries
        ]
        with translated_errors():
            for start in range(0, len(ops), TRANSACTION_SIZE):
                await table.submit_transaction(ops[start : start + TRANSACTION_SIZE])
        stream_hub.notify(key)

    async def read(self, key: StreamKey, after: int, limit: int) -> list[StreamEntry]:
        """Entries after ``after``, in order: one RowKey range query."""
        table = await self.store._client()
        parameters = {
            "pk": partition_key(key.agent, key.session),
            "lo": _row(key, after),
            "hi": _row(key, _LAST_SEQ),
        }
        query = "PartitionKey eq @pk and RowKey gt @lo and RowKey le @hi"
        out: list[StreamEntry] = []
        with translated_errors():
            async for row in table.query_entities(
                query, parameters=parameters, select=["seq", "data", "terminal"], results_per_page=limit
            ):
                out.append(_entry(row))
                if len(out) >= limit:
                    break
        return out

    async def last(self, key: StreamKey) -> StreamEntry | None:
        """The newest entry (the log's last row; a log is at most a few thousand rows)."""
        found: StreamEntry | None = None
        after = 0
        while True:
            page = await self.read(key, after, 1000)
            if not page:
                return found
            found, after = page[-1], page[-1].seq

    async def finish(self, key: StreamKey, retention_seconds: float) -> None:
        """Store the log's expiry; trim expired logs of the table (rate-limited)."""
        table = await self.store._client()
        pk = partition_key(key.agent, key.session)
        row = {"PartitionKey": pk, "RowKey": f"~e~{key.request_id}", "expires": expiry(retention_seconds)}
        with translated_errors():
            await table.upsert_entity(row, mode=UpdateMode.REPLACE)
        now = time.time()
        if now - self._trimmed >= self.trim_interval:
            self._trimmed = now
            await self.trim(now)

    async def trim(self, now: float) -> None:
        """Delete every log whose expiry is before ``now``, and its finish row."""
        table = await self.store._client()
        query = "RowKey ge '~e~' and RowKey lt '~e~~' and expires le @now"
        with translated_errors():
            ends = [
                (str(r["PartitionKey"]), str(r["RowKey"]))
                async for r in table.query_entities(
                    query, parameters={"now": now}, select=["PartitionKey", "RowKey"]
                )
            ]
            for pk, end in ends:
                request_id = end[3:]
                lo, hi = f"~s~{request_id}~", f"~s~{request_id}~~"
                rows = [
                    str(r["RowKey"])
                    async for r in table.query_entities(
                        "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi",
                        parameters={"pk": pk, "lo": lo, "hi": hi},
                        select=["RowKey"],
                    )
                ]
                for start in range(0, len(rows), TRANSACTION_SIZE):
                    batch = rows[start : start + TRANSACTION_SIZE]
                    await table.submit_transaction(
                        [("delete", {"PartitionKey": pk, "RowKey": rk}) for rk in batch]
                    )
                with suppress(ResourceNotFoundError):
                    await table.delete_entity(pk, end)
