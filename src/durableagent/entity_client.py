"""How the app's routes reach session entities: signal an operation, read committed state, watch commits.

The public Durable client can only signal an entity and read its committed state, so a route
signals, then watches committed states until one answers its request. Two implementations of
:class:`EntityClient` stand behind one seam:

* :class:`SdkEntityClient`: the Durable SDK's public ``DurableOrchestrationClient``, built from the
  function's ``durableClient`` binding. It works on every host (Azure, Core Tools, the local host
  over HTTP); watching is polling ``read_entity_state``, dense around the time this agent's recent
  operations took and sparse elsewhere (``entity_polling``).
* a host that runs the app in its own process (durableagent's local host) registers its own client
  under the binding's ``rpcBaseUrl`` (:func:`register_in_process`): it queues operations straight
  into its entity engine and wakes watchers at each commit, with no HTTP and no polling.

Invariants: a watch is opened before the signal (and before any read it is compared with), so a
commit that lands before the first wait is not missed; only committed state is ever read (never a
batch a crash could take back); a signal that returned is durable once :meth:`EntityClient.flush`
returned.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from durableagent.contract.problems import StoreUnavailable
from durableagent.entity_polling import PollPlan
from durableagent.logs import THROTTLE

logger = logging.getLogger("durableagent.http")

T = TypeVar("T")
State = dict[str, Any] | None


class Watch(Protocol):
    """Committed states of one entity, as they land."""

    async def until(self, answer: Callable[[State], T | None], seconds: float) -> T | None:
        """The first committed state's ``answer`` that is not None, within ``seconds`` (else None)."""


class EntityClient(Protocol):
    """What a route needs of the Durable backend for one request."""

    async def signal(self, name: str, key: str, operation: str, value: Any) -> None:
        """Queue ``operation`` with input ``value`` for entity ``@name@key``."""

    async def read(self, name: str, key: str) -> State:
        """The entity's committed state (``None`` when it does not exist)."""

    def watch(self, name: str, key: str) -> AbstractContextManager[Watch]:
        """Watch the entity's commits while the block runs."""

    async def flush(self) -> None:
        """Make every signal this client sent durable (before a route acknowledges it with 202)."""


def unavailable(action: str, exc: BaseException) -> StoreUnavailable:
    """The 503 for a backend call that failed; the log carries the exception type only."""
    THROTTLE.log(logger, logging.WARNING, "backend:" + action, "%s failed (%s)", action, type(exc).__name__)
    return StoreUnavailable("The durable backend is not answering; retry shortly.", retry_after=5)


def _as_state(value: Any) -> State:
    if isinstance(value, str):
        value = json.loads(value) if value else None
    return value if isinstance(value, dict) else None


class _PollingWatch:
    """Watching through the public client: reads planned by ``entity_polling.PollPlan``.

    Dense around how long this agent's recent operations took, sparse elsewhere.
    """

    def __init__(self, client: SdkEntityClient, name: str, key: str) -> None:
        self._client, self._name, self._key = client, name, key
        self.reads = 0

    async def until(self, answer: Callable[[State], T | None], seconds: float) -> T | None:
        started = time.monotonic()
        deadline = started + seconds
        plan = PollPlan(self._name, self._client.last_operation(self._name, self._key))
        while (remaining := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(plan.next_pause(time.monotonic() - started), remaining))
            read_at = time.monotonic() - started
            self.reads += 1
            found = answer(await self._client.read(self._name, self._key))
            if found is not None:
                plan.answered(read_at)
                return found
            plan.missed(read_at)
        return None

    def __enter__(self) -> _PollingWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class SdkEntityClient:
    """An :class:`EntityClient` over the SDK's public ``DurableOrchestrationClient``."""

    def __init__(self, binding: str, invocation_id: str | None = None) -> None:
        """Build the SDK client from the ``durableClient`` binding JSON the function received."""
        import azure.durable_functions as df

        self._df = df
        self._client = df.DurableOrchestrationClient(binding, invocation_id)
        self._signalled: dict[tuple[str, str], str] = {}  # the last operation signalled per entity

    def last_operation(self, name: str, key: str) -> str:
        """The operation this client last signalled to ``@name@key`` ("" when none)."""
        return self._signalled.get((name, key), "")

    async def signal(self, name: str, key: str, operation: str, value: Any) -> None:
        """Signal through the Durable HTTP API; any transport failure is a 503."""
        self._signalled[(name, key)] = operation
        try:
            await self._client.signal_entity(self._df.EntityId(name, key), operation, value)
        except Exception as exc:  # noqa: BLE001 - any SDK/transport failure is the backend being unavailable
            raise unavailable("signalling entity", exc) from None

    async def read(self, name: str, key: str) -> State:
        """Read through the Durable HTTP API; any transport failure is a 503."""
        try:
            response = await self._client.read_entity_state(self._df.EntityId(name, key))
        except Exception as exc:  # noqa: BLE001 - any SDK/transport failure is the backend being unavailable
            raise unavailable("reading entity state", exc) from None
        return _as_state(response.entity_state) if response.entity_exists else None

    def watch(self, name: str, key: str) -> _PollingWatch:
        """Poll, since the public API has no change notification."""
        return _PollingWatch(self, name, key)

    async def flush(self) -> None:
        """Nothing to do: the Durable API answers a signal once it is durable."""


_lock = threading.Lock()
IN_PROCESS: dict[str, EntityClient] = {}
"""Clients of hosts running in this process, by the ``rpcBaseUrl`` of their bindings."""


def register_in_process(rpc_base_url: str, client: EntityClient) -> None:
    """Serve routes whose binding names ``rpc_base_url`` with ``client`` (a host in this process)."""
    with _lock:
        IN_PROCESS[rpc_base_url] = client


def unregister_in_process(rpc_base_url: str) -> None:
    """Stop serving ``rpc_base_url`` in-process (the host stopped)."""
    with _lock:
        IN_PROCESS.pop(rpc_base_url, None)


@lru_cache(maxsize=64)
def rpc_base_url(binding: str) -> str:
    """The ``rpcBaseUrl`` of a ``durableClient`` binding JSON ("" when it has none)."""
    try:
        value = json.loads(binding).get("rpcBaseUrl")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""
