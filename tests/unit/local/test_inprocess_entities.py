"""The app's routes reach a host in this process through ``entity_client``: same inputs, no HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import azure.durable_functions as df
import pytest

from durableagent import entity_client
from durableagent.conversation.factory import StoreHolder
from durableagent.entity_client import SdkEntityClient
from durableagent.http.edge import RouteContext
from durableagent.local import entity_engine
from durableagent.local import entity_mailbox as mailbox
from durableagent.local.app_loading import index_app
from durableagent.local.durable_api import operation_input
from durableagent.local.entity_batches import EntityBatches
from durableagent.local.entity_engine import EntityEngine
from durableagent.local.indexing import plan_function
from durableagent.local.inprocess_entities import InProcessEntities
from durableagent.local.invoke import Invoker
from durableagent.local.store import MEMORY, Store
from durableagent.local.wire.client_binding import client_binding_json
from durableagent.options import AppOptions
from tests.unit.local.test_local_entity_engine import _app_module

BASE = "http://127.0.0.1:40999/tok123/durabletask/"
pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


def entity_client_for(binding: str) -> Any:
    return RouteContext({}, AppOptions(), StoreHolder()).entities(binding, None)


def _binding(base: str = BASE) -> str:
    return client_binding_json(
        public_base_url="http://127.0.0.1:7071", rpc_base_url=base, task_hub="Hub", system_key="sk"
    )


@pytest.fixture
def host() -> Iterator[tuple[EntityEngine, Store]]:
    store = Store(MEMORY)
    index = index_app(_app_module())
    plans = {fn.get_function_name(): plan_function(fn) for fn in index.functions}
    invoker = Invoker(".")
    yield EntityEngine(store, EntityBatches(store, index, plans, invoker), max_batch=10), store
    invoker.shutdown()
    store.close()


def test_the_registered_host_serves_its_own_binding_and_nothing_else(
    host: tuple[EntityEngine, Store],
) -> None:
    local = InProcessEntities(*host)
    entity_client.register_in_process(BASE, local)
    try:
        assert entity_client_for(_binding()) is local
        assert isinstance(
            entity_client_for(_binding("http://127.0.0.1:1/other/durabletask/")), SdkEntityClient
        )
    finally:
        entity_client.unregister_in_process(BASE)
    assert isinstance(entity_client_for(_binding()), SdkEntityClient)


@pytest.mark.parametrize("value", [{"message": "héllo", "n": [1, 2]}, "plain text", 7])
def test_a_signal_queues_what_the_sdk_and_the_extension_would(
    host: tuple[EntityEngine, Store], value: Any
) -> None:
    engine, store = host
    # The SDK posts json.dumps(value) as a JSON body (aiohttp json=...); the extension's handler
    # queues that body parsed and re-serialized (durable_api.operation_input).
    sdk_body = json.dumps(json.dumps(value)).encode()
    ok, expected = operation_input(sdk_body, "application/json")
    assert ok

    async def go() -> None:
        await InProcessEntities(engine, store).signal("Recorder", "k1", "put", value)

    asyncio.run(go())  # the engine was not started: the row stays in the mailbox
    rows = store.read_sync(lambda c: mailbox.load_batch(c, "@recorder@k1", 10))
    assert [(r.operation, r.input, r.is_signal) for r in rows] == [("put", expected, True)]


def test_signal_read_watch_and_flush_against_the_engine(host: tuple[EntityEngine, Store]) -> None:
    engine, store = host
    local = InProcessEntities(engine, store)

    async def go() -> tuple[Any, Any, Any]:
        await engine.start()
        with local.watch("Recorder", "k2") as watch:
            await local.signal("Recorder", "k2", "put", 5)
            got, committed = await watch.next(5)
            await local.signal("Recorder", "k2", "put", 6)
            second = await watch.until(lambda s: s if s is not None and len(s["log"]) == 2 else None, 5)
            assert second is not None
            assert second["log"] == ["5", "6"]
            assert await watch.until(lambda s: s, 0.05) is None  # nothing more committed
        await local.flush()
        read = await local.read("Recorder", "k2")
        missing = await local.read("Recorder", "nobody")
        await engine.stop(5)
        return (got, committed), read, missing, second

    (got, committed), read, missing, second = asyncio.run(go())
    assert got
    assert committed["log"] == ["5"]  # the recorder decodes the raw input once: the SDK's json.dumps(5)
    assert read == second
    assert missing is None


def test_an_unknown_entity_is_refused_before_anything_is_queued(host: tuple[EntityEngine, Store]) -> None:
    engine, store = host
    with pytest.raises(LookupError):
        asyncio.run(InProcessEntities(engine, store).signal("NoSuchEntity", "k", "op", 1))
    assert store.read_sync(entity_engine.pending_entities) == []


def test_the_sdk_client_is_the_public_one() -> None:
    client = SdkEntityClient(_binding(), "inv-1")
    assert isinstance(client._client, df.DurableOrchestrationClient)
