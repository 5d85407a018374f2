r"""The Azure Table store's session index (see ``conversation.store_protocol``): rows in the transcript table.

Why this layout: Azure Table storage orders rows only by ``(PartitionKey, RowKey)``, so each order
the index serves is a family of rows whose RowKey sorts in that order, all in one partition per
agent, ``{agent}~~sessions`` (``~`` cannot occur in a session id, so it never meets a session's own
partition ``{agent}~{session}``):

* ``s~{session}``: the summary, plus the RowKeys of the session's two order rows (``a``, ``e``);
* ``a~{9999999999999 - last_active_ms:013d}~{session}``: ascending RowKey = newest activity first;
* ``e~{expires_ms:013d}~{session}``: ascending RowKey = earliest expiry first (absent: never).

A touch reads the ``s~`` row and replaces the three rows in one entity group transaction guarded by
that row's ETag (all rows share the partition), so the orders never disagree with the summary;
a listing page and a sweep are one RowKey range query each. No entity is ever scanned.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from durableagent.conversation._table_codec import translated_errors
from durableagent.conversation.base import (
    SessionPage,
    SessionSummary,
    StoreUnavailableError,
    check_session,
    epoch_ms,
)
from durableagent.conversation.paging import check_limit, decode_cursor, encode_cursor

_NEWEST = 9_999_999_999_999
_FIELDS = ("created_at", "last_active_at", "turns", "expires_at")
CAS_ATTEMPTS = 20
Operation = tuple[Any, ...]


def index_partition(agent: str) -> str:
    return f"{agent}~~sessions"


def _activity_key(summary: SessionSummary) -> str:
    return f"a~{_NEWEST - epoch_ms(summary.last_active_at):013d}~{summary.session}"


def _expiry_key(summary: SessionSummary) -> str:
    return "" if summary.expires_at is None else f"e~{epoch_ms(summary.expires_at):013d}~{summary.session}"


def _row(pk: str, rk: str, summary: SessionSummary, **extra: str) -> dict[str, Any]:
    row: dict[str, Any] = {"PartitionKey": pk, "RowKey": rk, "session": summary.session, **extra}
    row.update({name: getattr(summary, name) for name in _FIELDS if getattr(summary, name) is not None})
    return row


def _summary(agent: str, row: Mapping[str, Any]) -> SessionSummary:
    expires = row.get("expires_at")
    return SessionSummary(
        agent,
        str(row["session"]),
        str(row["created_at"]),
        str(row["last_active_at"]),
        int(row["turns"]),
        str(expires) if expires else None,
    )


async def _read_pointer(table: TableClient, pk: str, session: str) -> Any | None:
    try:
        return await table.get_entity(pk, f"s~{session}")
    except ResourceNotFoundError:
        return None


def _guarded(pointer: Any, entity: dict[str, Any]) -> Operation:
    if pointer is None:
        return ("create", entity)
    condition = {"etag": pointer.metadata["etag"], "match_condition": MatchConditions.IfNotModified}
    return ("update", entity, {"mode": UpdateMode.REPLACE, **condition})


async def _submit(table: TableClient, operations: list[Operation], attempt: int) -> bool:
    """Submit; False when the pointer row changed or appeared meanwhile (read it again)."""
    try:
        await table.submit_transaction(operations)
        return True
    except TableTransactionError as exc:
        if exc.status_code not in (404, 409, 412):
            raise
    await asyncio.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    return False


async def touch(table: TableClient, summary: SessionSummary) -> None:
    """Replace the session's summary and its two order rows, atomically."""
    pk = index_partition(summary.agent)
    activity, expiry = _activity_key(summary), _expiry_key(summary)
    for attempt in range(CAS_ATTEMPTS):
        pointer = await _read_pointer(table, pk, summary.session)
        operations: list[Operation] = [
            _guarded(pointer, _row(pk, f"s~{summary.session}", summary, a=activity, e=expiry))
        ]
        for old, new in ((pointer or {}).get("a"), activity), ((pointer or {}).get("e"), expiry):
            if old and old != new:
                operations.append(("delete", {"PartitionKey": pk, "RowKey": old}))
        operations.append(("upsert", _row(pk, activity, summary), {"mode": UpdateMode.REPLACE}))
        if expiry:
            operations.append(("upsert", _row(pk, expiry, summary), {"mode": UpdateMode.REPLACE}))
        if await _submit(table, operations, attempt):
            return
    raise StoreUnavailableError(f"touch_session gave up after {CAS_ATTEMPTS} conflicting updates")


async def drop(table: TableClient, agent: str, session: str) -> None:
    """Remove the session's summary and order rows (nothing when it has none)."""
    pk = index_partition(agent)
    for attempt in range(CAS_ATTEMPTS):
        pointer = await _read_pointer(table, pk, session)
        if pointer is None:
            return
        condition = {"etag": pointer.metadata["etag"], "match_condition": MatchConditions.IfNotModified}
        operations: list[Operation] = [("delete", {"PartitionKey": pk, "RowKey": f"s~{session}"}, condition)]
        operations += [
            ("delete", {"PartitionKey": pk, "RowKey": pointer[k]}) for k in ("a", "e") if pointer.get(k)
        ]
        if await _submit(table, operations, attempt):
            return
    raise StoreUnavailableError(f"drop_session gave up after {CAS_ATTEMPTS} conflicting updates")


async def get(table: TableClient, agent: str, session: str) -> SessionSummary | None:
    pointer = await _read_pointer(table, index_partition(agent), session)
    return None if pointer is None else _summary(agent, pointer)


async def _range(table: TableClient, pk: str, low: str, high: str, limit: int) -> list[Any]:
    """Up to ``limit`` rows with ``low < RowKey < high``, in RowKey order."""
    query = "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi"
    rows: list[Any] = []
    pages = table.query_entities(
        query, parameters={"pk": pk, "lo": low, "hi": high}, results_per_page=min(limit, 1000)
    )
    async for row in pages:
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


async def page(table: TableClient, agent: str, limit: int, cursor: str | None) -> SessionPage:
    """One page of the activity rows after ``cursor`` (the RowKey of the previous page's last row)."""
    check_limit(limit)
    low = "a~" if cursor is None else decode_cursor(cursor, "a~")
    rows = await _range(table, index_partition(agent), low, "a~~", limit + 1)
    found = rows[:limit]
    next_cursor = encode_cursor(str(found[-1]["RowKey"])) if len(rows) > limit else None
    return SessionPage([_summary(agent, row) for row in found], next_cursor)


async def expired(table: TableClient, agent: str, now: str, limit: int) -> list[SessionSummary]:
    """Summaries of the expiry rows up to ``now``, earliest first."""
    high = f"e~{epoch_ms(now) + 1:013d}"
    rows = await _range(table, index_partition(agent), "e~", high, check_limit(limit))
    return [_summary(agent, row) for row in rows]


class TableSessionIndex:
    """The session index methods of the Azure Table store (a mixin: the store supplies ``_client``)."""

    async def _client(self) -> TableClient:
        raise NotImplementedError  # the store's

    async def touch_session(self, summary: SessionSummary) -> None:
        """Replace the summary and its order rows in the agent's index partition (``_table_sessions``)."""
        table = await self._client()
        with translated_errors():
            await touch(table, summary)

    async def get_session(self, agent: str, session: str) -> SessionSummary | None:
        """The session's summary row, if any."""
        check_session(agent, session)
        table = await self._client()
        with translated_errors():
            return await get(table, agent, session)

    async def list_sessions(self, agent: str, limit: int, cursor: str | None = None) -> SessionPage:
        """One RowKey range of the agent's activity rows."""
        check_session(agent, "x")
        table = await self._client()
        with translated_errors():
            return await page(table, agent, limit, cursor)

    async def expired_sessions(self, agent: str, now: str, limit: int) -> list[SessionSummary]:
        """One RowKey range of the agent's expiry rows."""
        check_session(agent, "x")
        table = await self._client()
        with translated_errors():
            return await expired(table, agent, now, limit)
