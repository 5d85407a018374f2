"""Waiting for an entity operation's outcome, from an HTTP function.

The public Durable client can only signal an entity and read its committed state. So the route
signals, then watches committed states until one answers its request:

* in a host that publishes commits in-process (durableagent's local host, ``wire.commit_feed``),
  the waiter wakes on each commit of that entity: no sleep between the commit and the reply;
* elsewhere (Azure) it polls ``read_entity_state`` with backoff (0.05 s growing to 1 s).

It subscribes before signalling, so a commit that lands before the first wait is not missed, and
it only ever reads committed state (never a batch a crash could take back).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import azure.durable_functions as df

from durableagent.contract.problems import StoreUnavailable
from durableagent.wire import commit_feed, rpc_inprocess

logger = logging.getLogger("durableagent.http")

T = TypeVar("T")
Predicate = Callable[[dict[str, Any] | None], T | None]
_SAFETY_READ = 1.0  # even with a publisher, re-read now and then (a commit published before we subscribed)


def _as_state(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, dict) else None


class EntityWaiter:
    """Signal an entity and wait for a committed state that satisfies a predicate."""

    def __init__(self, client: df.DurableOrchestrationClient, entity_id: df.EntityId) -> None:
        self.client = client
        self.entity_id = entity_id
        rpc_inprocess.bind(client)  # a host in this process answers the client's RPC without a socket
        self._feed = commit_feed.subscribe(commit_feed.entity_key(entity_id.name, entity_id.key))
        self._sub: commit_feed.Subscription | None = None

    def __enter__(self) -> EntityWaiter:
        self._sub = self._feed.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._feed.__exit__(None, None, None)

    async def read(self) -> dict[str, Any] | None:
        """The entity's committed state (None when it does not exist)."""
        try:
            response = await self.client.read_entity_state(self.entity_id)
        except Exception as exc:  # noqa: BLE001 - any SDK/transport failure is the backend being unavailable
            logger.warning("reading entity state failed (%s)", type(exc).__name__)
            raise StoreUnavailable(
                "The durable backend is not answering; retry shortly.", retry_after=2
            ) from None
        return _as_state(response.entity_state) if response.entity_exists else None

    async def signal(self, operation: str, operation_input: Any) -> None:
        try:
            await self.client.signal_entity(self.entity_id, operation, operation_input)
        except Exception as exc:  # noqa: BLE001 - any SDK/transport failure is the backend being unavailable
            logger.warning("signalling entity failed (%s)", type(exc).__name__)
            raise StoreUnavailable(
                "The durable backend did not accept the request; retry shortly.", retry_after=2
            ) from None

    async def wait(self, predicate: Predicate[T], seconds: float) -> T | None:
        """The first committed state's ``predicate`` result that is not None, within ``seconds``."""
        deadline = time.monotonic() + seconds
        push = commit_feed.has_publisher() and self._sub is not None
        delay = 0.05
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if push:
                assert self._sub is not None
                got, state_text = await self._sub.next(min(remaining, _SAFETY_READ))
                state = _as_state(state_text) if got else await self.read()
            else:
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 1.5, 1.0)
                state = await self.read()
            answer = predicate(state)
            if answer is not None:
                return answer
