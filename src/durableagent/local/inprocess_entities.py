"""This host's entities, offered in-process to the app's routes (``durableagent.entity_client``).

Why: an HTTP function of the app signals an entity and waits for the commit that answers it. Over
the Durable HTTP API that costs a loopback request per signal and a poll per read; the host runs
the app in its own process, so it registers this client under its ``rpcBaseUrl`` and the routes
use it instead: the signal goes straight into the entity engine's mailbox, and the route's watch
is woken by the batch's commit.

Equivalence with the HTTP path: the queued input is byte for byte what the SDK's
``signal_entity`` and the extension's HTTP handler would queue (the SDK posts ``json.dumps(input)``
as a JSON body, the handler stores the parsed body re-serialized: ``durable_api.operation_input``),
so the entity function cannot tell the difference. The signal's commit skips its fsync; the route
calls :meth:`flush` before it acknowledges a request with 202, and a 200 follows the batch's own
FULL commit. ``DURABLEAGENT_INPROCESS_RPC=0`` turns this off (the routes then use HTTP, as on Azure).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from durableagent import _faults
from durableagent.local import entity_tables as tables
from durableagent.local.entity_engine import EntityEngine, EntityWatch
from durableagent.local.store import Store

DISABLE_ENV = "DURABLEAGENT_INPROCESS_RPC"


class InProcessEntities:
    """An ``EntityClient`` (``durableagent.entity_client``) over this host's engine and store."""

    def __init__(self, engine: EntityEngine, store: Store) -> None:
        """Serve the app's routes from ``engine`` and ``store``."""
        self._engine = engine
        self._store = store

    async def signal(self, name: str, key: str, operation: str, value: Any) -> None:
        """Queue ``operation`` as a signal; returns after its (not yet fsynced) commit."""
        if not self._engine.has_entity(name):
            raise LookupError(f"no entity function named {name!r}")
        input_json = (
            json.dumps(json.dumps(value), ensure_ascii=False, separators=(",", ":")) if value else None
        )
        await self._engine.enqueue_operation(
            tables.entity_id(name, key), operation, input_json, is_signal=True, durable=False
        )
        if _faults.ARMED:
            _faults.crash_point("host.signal.after_commit")  # queued, not yet answered

    async def read(self, name: str, key: str) -> dict[str, Any] | None:
        """The entity's committed state."""
        eid = tables.entity_id(name, key)
        row = await self._store.read(lambda c: tables.read_entity(c, eid), inline=True)
        if row is None or row.state is None:
            return None
        state = json.loads(row.state)
        return state if isinstance(state, dict) else None

    @contextmanager
    def watch(self, name: str, key: str) -> Iterator[EntityWatch]:
        """Watch the entity's commits while the block runs."""
        with self._engine.watch(tables.entity_id(name, key)) as watch:
            yield watch

    async def flush(self) -> None:
        """Make every signal sent so far durable (an fsync of the store's WAL)."""
        await self._store.sync()
