"""ConversationStore in Azure Table storage: transcripts of apps running on Azure Functions.

Why: on Azure the only storage every Functions app already has is ``AzureWebJobsStorage``, and a
session's transcript maps well onto one table partition (``agent~session``): ordered RowKeys give
range scans for pages of turns, and ``drop_session`` is one partition sweep. Keys and the
chunking of large records are in ``_table_codec``.

Durability: a call returns after the service acknowledged the write. ``begin_attempt`` is a
read-modify-write guarded by the row's ETag (retried on conflict), so concurrent callers never lose
an increment; an SDK-level retry of an already-applied write can count one attempt twice, which
only makes poison detection more conservative.

Threads: the SDK's aio client belongs to the event loop that first used it (the agent loop);
use a store from that loop only, and ``aclose`` it there.

The ledger is cleaned by ``forget_request`` and ``drop_session``; it is not otherwise bounded.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import suppress

from azure.core import MatchConditions
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient, TableServiceClient

from durableagent.conversation._table_codec import (
    CLIENT_OPTIONS,
    DEFAULT_TABLE,
    TRANSACTION_SIZE,
    TURN_PROPERTIES,
    check_table_name,
    partition_key,
    request_key,
    translated_errors,
    turn_entity,
    turn_key,
    turn_text,
)
from durableagent.conversation._table_control import TableMarks
from durableagent.conversation.base import (
    MAX_TURN,
    RequestState,
    SessionRef,
    StoreError,
    StoreUnavailableError,
    TurnRecord,
    check_request,
    check_session,
    decode_record,
    encode_record,
)

CAS_ATTEMPTS = 20


class AzureTableConversationStore(TableMarks):
    """Transcripts and ledger in one table (build with ``from_connection_string``/``from_endpoint``)."""

    def __init__(
        self,
        service: TableServiceClient,
        table_name: str = DEFAULT_TABLE,
        credential: AsyncTokenCredential | None = None,
    ) -> None:
        """Take ownership of ``service`` (and of ``credential``, closed by :meth:`aclose`)."""
        check_table_name(table_name)
        self.table_name = table_name
        self._service = service
        self._credential = credential
        self._table: TableClient | None = None
        self._creating = asyncio.Lock()
        self._closed = False

    @classmethod
    def from_connection_string(
        cls, conn_str: str, table_name: str = DEFAULT_TABLE
    ) -> AzureTableConversationStore:
        """Use an account connection string (``UseDevelopmentStorage=true`` means Azurite)."""
        check_table_name(table_name)
        if conn_str.strip().rstrip(";").lower() == "usedevelopmentstorage=true":
            conn_str = "UseDevelopmentStorage=true"  # the SDK expands exactly this spelling
        return cls(TableServiceClient.from_connection_string(conn_str, **CLIENT_OPTIONS), table_name)

    @classmethod
    def from_endpoint(
        cls, endpoint: str, credential: AsyncTokenCredential, table_name: str = DEFAULT_TABLE
    ) -> AzureTableConversationStore:
        """Use a table service URI and a token credential (identity-based connections)."""
        check_table_name(table_name)
        service = TableServiceClient(endpoint, credential=credential, **CLIENT_OPTIONS)
        return cls(service, table_name, credential)

    async def _client(self) -> TableClient:
        if self._closed:
            raise StoreError("the conversation store is closed")
        if self._table is None:
            async with self._creating:
                if self._table is None:
                    with translated_errors():
                        self._table = await self._service.create_table_if_not_exists(self.table_name)
        return self._table

    async def begin_attempt(self, agent: str, session: str, request_id: str) -> int:
        """Count one more attempt (1 the first time) and mark it running, ETag-guarded.

        Raises:
            StoreUnavailableError: ``CAS_ATTEMPTS`` updates in a row lost to concurrent writers.
        """
        check_request(agent, session, request_id)
        table = await self._client()
        key = {"PartitionKey": partition_key(agent, session), "RowKey": request_key(request_id)}
        for attempt in range(CAS_ATTEMPTS):
            with translated_errors():
                try:
                    row = await table.get_entity(key["PartitionKey"], key["RowKey"], select=["attempts"])
                except ResourceNotFoundError:
                    try:
                        await table.create_entity({**key, "attempts": 1, "state": "running"})
                        return 1
                    except ResourceExistsError:
                        continue  # a concurrent caller created it: read it again
                attempts = int(row.get("attempts") or 0) + 1
                try:
                    await table.update_entity(
                        {**key, "attempts": attempts, "state": "running"},
                        mode=UpdateMode.REPLACE,
                        etag=row.metadata["etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return attempts
                except (ResourceModifiedError, ResourceNotFoundError):
                    pass  # changed or forgotten under us: read it again
            await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise StoreUnavailableError(f"begin_attempt gave up after {CAS_ATTEMPTS} conflicting updates")

    async def mark_accepted(self, agent: str, session: str, request_id: str) -> None:
        """Create an accepted ledger row; a row that already exists is left as it is."""
        check_request(agent, session, request_id)
        table = await self._client()
        entity = {
            "PartitionKey": partition_key(agent, session),
            "RowKey": request_key(request_id),
            "attempts": 0,
            "state": "accepted",
        }
        with translated_errors(), suppress(ResourceExistsError):  # it already has a state: leave it
            await table.create_entity(entity)

    async def request_state(self, agent: str, session: str, request_id: str) -> RequestState | None:
        """``accepted``, ``running``, or None for an unknown (or forgotten) request."""
        check_request(agent, session, request_id)
        table = await self._client()
        with translated_errors():
            try:
                row = await table.get_entity(
                    partition_key(agent, session), request_key(request_id), select=["state"]
                )
            except ResourceNotFoundError:
                return None
        state: RequestState = "running" if row.get("state") == "running" else "accepted"
        return state

    async def forget_request(self, agent: str, session: str, request_id: str) -> None:
        """Delete the request's ledger row; an absent row is not an error."""
        check_request(agent, session, request_id)
        table = await self._client()
        with translated_errors(), suppress(ResourceNotFoundError):
            await table.delete_entity(partition_key(agent, session), request_key(request_id))

    async def append_turn(self, ref: SessionRef, record: TurnRecord) -> None:
        """Upsert (replace) the turn's entity, its JSON chunked as ``_table_codec`` lays it out."""
        pk, rk = partition_key(ref.agent, ref.session), turn_key(ref.incarnation, record.turn)
        entity = turn_entity(pk, rk, record.turn, encode_record(record))
        table = await self._client()
        with translated_errors():
            await table.upsert_entity(entity, mode=UpdateMode.REPLACE)

    async def get_turn(self, ref: SessionRef, turn: int) -> TurnRecord | None:
        """The turn of this session life, or None when absent or out of range."""
        if not 1 <= turn <= MAX_TURN:
            return None
        table = await self._client()
        pk, rk = partition_key(ref.agent, ref.session), turn_key(ref.incarnation, turn)
        with translated_errors():
            try:
                row = await table.get_entity(pk, rk, select=TURN_PROPERTIES)
            except ResourceNotFoundError:
                return None
        return decode_record(turn_text(row))

    async def load_turns(self, ref: SessionRef, first: int, last: int) -> list[TurnRecord]:
        """Records with ``first <= turn <= last`` in turn order: one RowKey range query."""
        first, last = max(first, 1), min(last, MAX_TURN)
        if first > last:
            return []
        table = await self._client()
        parameters = {
            "pk": partition_key(ref.agent, ref.session),
            "lo": turn_key(ref.incarnation, first),
            "hi": turn_key(ref.incarnation, last),
        }
        query = "PartitionKey eq @pk and RowKey ge @lo and RowKey le @hi"
        with translated_errors():
            rows = [
                row
                async for row in table.query_entities(query, parameters=parameters, select=TURN_PROPERTIES)
            ]
        return [decode_record(turn_text(row)) for row in rows]

    async def drop_session(self, agent: str, session: str) -> None:
        """Delete the session's whole partition (turns and ledger), in batch transactions."""
        check_session(agent, session)
        table = await self._client()
        pk = partition_key(agent, session)
        with translated_errors():
            keys = [
                str(row["RowKey"])
                async for row in table.query_entities(
                    "PartitionKey eq @pk", parameters={"pk": pk}, select=["PartitionKey", "RowKey"]
                )
            ]
            for start in range(0, len(keys), TRANSACTION_SIZE):
                batch = keys[start : start + TRANSACTION_SIZE]
                try:
                    await table.submit_transaction(
                        [("delete", {"PartitionKey": pk, "RowKey": rk}) for rk in batch]
                    )
                except TableTransactionError as exc:
                    if exc.status_code != 404:
                        raise
                    await self._delete_each(table, pk, batch)  # a row vanished meanwhile

    @staticmethod
    async def _delete_each(table: TableClient, pk: str, row_keys: list[str]) -> None:
        for rk in row_keys:
            with suppress(ResourceNotFoundError):
                await table.delete_entity(pk, rk)

    async def aclose(self) -> None:
        """Close the table and service clients and the credential; idempotent."""
        if self._closed:
            return
        self._closed = True
        table, self._table = self._table, None
        if table is not None:
            await table.close()
        await self._service.close()
        if self._credential is not None:
            await self._credential.close()
