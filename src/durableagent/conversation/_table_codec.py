r"""Azure Table storage rules for the conversation store: keys, entity encoding, client options.

Why: Azure Table storage limits a string property to 64 KiB (32 Ki UTF-16 code units) and an entity
to 1 MiB, forbids ``/ \ # ?`` and control characters in keys, and orders rows by comparing
RowKeys as strings. This module is the one place that maps transcript rows onto those rules, so
``azure_table.py`` only speaks to the service.

Keys (all characters come from the validated identifier alphabets in ``base``: ``[A-Za-z0-9_-]``
for names and incarnations, plus ``.`` and ``:`` for request ids; none is forbidden in a key):
* PartitionKey ``{agent}~{session}`` (≤ 257 characters, far below the 1 KiB key limit).
* Turn rows: RowKey ``{incarnation}~{turn:010d}``: string order is turn order within a life, and
  ``~`` sorts after every identifier character, so a range never strays into another incarnation.
* Ledger rows: RowKey ``req~{request_id}`` (``req`` is a reserved incarnation, so they never collide).

A turn row holds its JSON split across ``d0``…``d{n-1}`` (``n`` chunks), with format version ``v``;
a record too large for one entity is a blob, and its row (``v`` = 2) points at it (``large_values``).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from durableagent.conversation.base import (
    MAX_RECORD_UTF16_UNITS,
    RecordTooLargeError,
    StoreError,
    StoreUnavailableError,
    utf16_units,
)

CHUNK_UNITS = 32_000
"""UTF-16 code units per ``d<i>`` property: under the 64 KiB (32,768 units) string limit."""
MAX_CHUNKS = math.ceil(MAX_RECORD_UTF16_UNITS / CHUNK_UNITS)
MAX_ENTITY_BYTES = 1024 * 1024
FORMAT_VERSION = 1
TURN_PROPERTIES = ["RowKey", "v", "n", "bytes", *(f"d{i}" for i in range(MAX_CHUNKS))]
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_TABLE = "DurableAgentTranscripts"
TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}")
TRANSACTION_SIZE = 100  # the service's limit of operations per entity group transaction
# Fail over to StoreUnavailableError in seconds, not minutes (the SDK default backs off to 2 min).
CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 4,
    "retry_backoff_factor": 0.4,
    "retry_backoff_max": 8,
    "connection_timeout": 10,
    "read_timeout": 30,
}


def check_table_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a valid table name (before any client is built)."""
    if TABLE_NAME.fullmatch(name) is None:
        raise ValueError(f"table name must match {TABLE_NAME.pattern}")


def partition_key(agent: str, session: str) -> str:
    return f"{agent}~{session}"


def turn_key(incarnation: str, turn: int) -> str:
    return f"{incarnation}~{turn:010d}"


def request_key(request_id: str) -> str:
    return f"req~{request_id}"


def split_utf16(text: str, limit: int = CHUNK_UNITS) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` UTF-16 code units, never inside a code point."""
    if text.isascii():
        return [text[i : i + limit] for i in range(0, len(text), limit)] or [""]
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + limit, len(text))
        while (excess := utf16_units(text[start:end]) - limit) > 0:
            end -= (excess + 1) // 2  # each code point is 1 or 2 units: this never overshoots by much
        chunks.append(text[start:end])
        start = end
    return chunks or [""]


def entity_size(entity: Mapping[str, Any]) -> int:
    """Bytes the service charges for ``entity`` (Microsoft's published formula, UTF-16 strings)."""
    size = 4 + 2 * (len(entity["PartitionKey"]) + len(entity["RowKey"]))
    for name, value in entity.items():
        if name in ("PartitionKey", "RowKey"):
            continue
        if isinstance(value, str):
            value_size = 4 + 2 * utf16_units(value)
        elif isinstance(value, bool):
            value_size = 1
        else:
            value_size = 8
        size += 8 + 2 * len(name) + value_size
    return size


def turn_entity(pk: str, rk: str, turn: int, text: str) -> dict[str, Any]:
    """The row for one turn's JSON; :class:`RecordTooLargeError` if it exceeds the entity limit."""
    chunks = split_utf16(text)
    entity: dict[str, Any] = {"PartitionKey": pk, "RowKey": rk, "v": FORMAT_VERSION, "n": len(chunks)}
    entity.update({f"d{i}": chunk for i, chunk in enumerate(chunks)})
    size = entity_size(entity)
    if len(chunks) > MAX_CHUNKS or size > MAX_ENTITY_BYTES:
        raise RecordTooLargeError(
            f"turn {turn} needs a {size}-byte table entity; Azure Table storage allows {MAX_ENTITY_BYTES}"
        )
    return entity


def turn_text(entity: Mapping[str, Any]) -> str:
    """The JSON stored by :func:`turn_entity`."""
    version, count = entity.get("v"), entity.get("n")
    if version != FORMAT_VERSION or not isinstance(count, int) or not 1 <= count <= MAX_CHUNKS:
        raise StoreError(f"unreadable transcript row {entity.get('RowKey')!r} (format {version!r})")
    chunks = [entity.get(f"d{i}") for i in range(count)]
    if not all(isinstance(chunk, str) for chunk in chunks):
        raise StoreError(f"transcript row {entity.get('RowKey')!r} lacks some of its {count} chunks")
    return "".join(str(chunk) for chunk in chunks)


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn throttling, 5xx, time-outs and connection failures into :class:`StoreUnavailableError`."""
    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StoreUnavailableError(f"Azure Table storage is unreachable ({type(exc).__name__})") from exc
    except HttpResponseError as exc:
        if exc.status_code in TRANSIENT_STATUS:
            raise StoreUnavailableError(f"Azure Table storage answered {exc.status_code}") from exc
        raise
    except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
        raise StoreUnavailableError(f"Azure Table storage is unreachable ({type(exc).__name__})") from exc
