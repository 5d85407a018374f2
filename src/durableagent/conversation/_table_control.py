"""Turn-control marks of the Azure Table store (``store_protocol.TurnControl``).

A mark is the row ``req~~<id>`` of the session's partition (property ``mark``). Request ids never
hold ``~``, so every ledger row ``req~<id>`` sorts before ``req~~`` and marks never mix with the
ledger's range; ``drop_session`` sweeps the partition, so a reset writes its marks after it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableClient

from durableagent.conversation._table_codec import (
    TRANSACTION_SIZE,
    partition_key,
    request_key,
    translated_errors,
)
from durableagent.conversation.base import (
    Mark,
    SessionRef,
    TurnRecord,
    check_request,
    check_session,
    checked_ids,
    checked_mark,
)

LEDGER_FIRST, MARKS_FIRST = "req~", "req~~"
FIND_PAGE = 100  # turns read per query when looking a request up in the transcript


def mark_key(request_id: str) -> str:
    """The RowKey of a request's mark."""
    return f"{MARKS_FIRST}{request_id}"


class TableMarks:
    """Mixin of ``AzureTableConversationStore`` (it supplies the table client)."""

    _client: Callable[[], Awaitable[TableClient]]
    load_turns: Callable[[SessionRef, int, int], Awaitable[list[TurnRecord]]]

    async def request_ids(self, agent: str, session: str) -> list[str]:
        """The ids of the session's ledger rows (a range query of the partition)."""
        check_session(agent, session)
        table = await self._client()
        query = "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi"
        params = {"pk": partition_key(agent, session), "lo": LEDGER_FIRST, "hi": MARKS_FIRST}
        with translated_errors():
            rows = [
                (str(row.metadata.get("timestamp", "")), str(row["RowKey"]))
                async for row in table.query_entities(query, parameters=params, select=["RowKey"])
            ]
        return [key[len(LEDGER_FIRST) :] for _, key in sorted(rows)]  # oldest first: the service's Timestamp

    async def register_request(self, agent: str, session: str, request_id: str) -> bool:
        """Create an accepted row unless one exists; whether it was created."""
        checked_mark(agent, session, request_id, "cancel")
        table = await self._client()
        entity = {"PartitionKey": partition_key(agent, session), "RowKey": request_key(request_id)}
        with translated_errors():
            try:
                await table.create_entity({**entity, "attempts": 0, "state": "accepted"})
            except ResourceExistsError:
                return False
        return True

    async def set_mark(self, agent: str, session: str, request_id: str, mark: Mark) -> None:
        """Mark the request (``discarded`` is never replaced by ``cancel``)."""
        mark = checked_mark(agent, session, request_id, mark)
        if mark == "cancel" and await self.mark_of(agent, session, request_id) == "discarded":
            return
        table = await self._client()
        entity = {"PartitionKey": partition_key(agent, session), "RowKey": mark_key(request_id), "mark": mark}
        with translated_errors():
            await table.upsert_entity(entity, mode=UpdateMode.REPLACE)

    async def mark_of(self, agent: str, session: str, request_id: str) -> Mark | None:
        """The request's mark, if any."""
        checked_mark(agent, session, request_id, "cancel")
        table = await self._client()
        with translated_errors():
            try:
                row = await table.get_entity(
                    partition_key(agent, session), mark_key(request_id), select=["mark"]
                )
            except ResourceNotFoundError:
                return None
        value = row.get("mark")
        return value if value in ("cancel", "discarded") else None

    async def replace_marks(self, agent: str, session: str, discarded: Iterable[str]) -> None:
        """The session's only marks become ``discarded`` for ``discarded`` (batches of the partition)."""
        ids = checked_ids(agent, session, discarded)
        table = await self._client()
        pk = partition_key(agent, session)
        query = "PartitionKey eq @pk and RowKey ge @lo"
        with translated_errors():
            old = [
                str(row["RowKey"])
                async for row in table.query_entities(query, parameters={"pk": pk, "lo": MARKS_FIRST})
            ]
            for key in old:
                with suppress(ResourceNotFoundError):
                    await table.delete_entity(pk, key)
            rows = [{"PartitionKey": pk, "RowKey": mark_key(i), "mark": "discarded"} for i in ids]
            for start in range(0, len(rows), TRANSACTION_SIZE):
                await table.submit_transaction(
                    [("upsert", row) for row in rows[start : start + TRANSACTION_SIZE]]
                )

    async def find_turn(self, ref: SessionRef, request_id: str, newest: int) -> TurnRecord | None:
        """The newest turn of ``ref`` up to ``newest`` written for ``request_id``: pages, newest first."""
        check_request(ref.agent, ref.session, request_id)
        last = newest
        while last >= 1:
            first = max(1, last - FIND_PAGE + 1)
            for record in reversed(await self.load_turns(ref, first, last)):
                if record.request_id == request_id:
                    return record
            last = first - 1
        return None
