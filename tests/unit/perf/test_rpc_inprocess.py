"""The durable client's RPC served in-process: same requests, same decoding, HTTP when not registered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import azure.durable_functions as df

from durableagent.local.durable_api import DurableApi, DurableRequest, DurableResponse
from durableagent.local.front_door import FrontDoor
from durableagent.local.keys import build_keyring
from durableagent.local.router import Router
from durableagent.local.settings import KeySettings
from durableagent.local.wire.client_binding import client_binding_json
from durableagent.wire import rpc_inprocess

BASE = "http://127.0.0.1:40999/tok123/durabletask/"


def _client(base: str = BASE) -> df.DurableOrchestrationClient:
    binding = client_binding_json(
        public_base_url="http://127.0.0.1:7071", rpc_base_url=base, task_hub="Hub", system_key="sk"
    )
    return df.DurableOrchestrationClient(binding)


def _front(seen: list[DurableRequest]) -> FrontDoor:
    api = DurableApi()

    async def signal(req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        seen.append(req)
        return DurableResponse(202)

    async def read(req: DurableRequest, params: dict[str, str]) -> DurableResponse:
        seen.append(req)
        if params["entityKey"] == "missing":
            return DurableResponse(404)
        return DurableResponse(200, json.dumps({"n": 1}).encode(), "application/json")

    api.add_route("entities/{entityName}/{*entityKey}", ["POST"], signal)
    api.add_route("entities/{entityName}/{*entityKey}", ["GET"], read)
    keys, _ = build_keyring(KeySettings(master="mk", host={}), {"system": "sk"}, environ={})
    return FrontDoor(
        routes=Router("api"),
        durable_api=api,
        keys=keys,
        invoker=None,  # type: ignore[arg-type]  # no functions are invoked on the RPC surface
        rpc_prefix="/tok123/durabletask/",
        require_keys=False,
        max_body_bytes=1000,
        rpc_max_body_bytes=1000,
        public_base_url="http://127.0.0.1:7071",
    )


def test_an_unregistered_host_leaves_the_client_on_http() -> None:
    client = _client("http://127.0.0.1:1/other/durabletask/")
    before = client._post_async_request
    assert rpc_inprocess.bind(client) is False
    assert client._post_async_request is before


def test_the_shortcut_can_be_switched_off(monkeypatch: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        rpc_inprocess.register(BASE, _front([]).call_rpc, loop)
        monkeypatch.setenv(rpc_inprocess.DISABLE_ENV, "0")
        client = _client()
        before = client._post_async_request
        assert rpc_inprocess.bind(client) is False
        assert client._post_async_request is before
        monkeypatch.setenv(rpc_inprocess.DISABLE_ENV, "1")
        assert rpc_inprocess.bind(_client()) is True
    finally:
        rpc_inprocess.unregister(BASE)
        loop.close()


def test_signal_and_read_reach_the_handler_as_the_listener_would_pass_them() -> None:
    seen: list[DurableRequest] = []

    async def main() -> tuple[Any, Any, Any]:
        rpc_inprocess.register(BASE, _front(seen).call_rpc, asyncio.get_running_loop())
        try:
            client = _client()
            assert rpc_inprocess.bind(client) is True
            await client.signal_entity(df.EntityId("Agent", "s-1"), "run_agent", {"message": "hi"})
            state = await client.read_entity_state(df.EntityId("Agent", "s-1"))
            missing = await client.read_entity_state(df.EntityId("Agent", "missing"))
            return state, missing, client
        finally:
            rpc_inprocess.unregister(BASE)

    state, missing, _ = asyncio.run(main())
    signal, read = seen[0], seen[1]
    assert (signal.method, signal.path, signal.surface) == ("POST", "entities/Agent/s-1", "rpc")
    assert signal.query == {"op": "run_agent"}
    assert signal.headers["content-type"] == "application/json"
    assert json.loads(json.loads(signal.body)) == {"message": "hi"}  # the SDK's double encoding, as over HTTP
    assert read.method == "GET"
    assert state.entity_exists
    assert state.entity_state == {"n": 1}
    assert not missing.entity_exists


def test_a_stopped_host_is_an_error_not_a_hang() -> None:
    async def main() -> None:
        rpc_inprocess.register(BASE, _front([]).call_rpc, asyncio.get_running_loop())
        client = _client()
        rpc_inprocess.bind(client)
        rpc_inprocess.unregister(BASE)
        await client.signal_entity(df.EntityId("Agent", "s-1"), "run_agent", {"message": "hi"})

    try:
        asyncio.run(main())
    except ConnectionError:
        return
    raise AssertionError("expected ConnectionError")


def test_oversized_and_foreign_paths_get_the_listeners_problems() -> None:
    async def main() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        front = _front([])
        big = await front.call_rpc("POST", BASE + "entities/agent/k?op=x", {}, b"x" * 1001)
        other = await front.call_rpc("GET", "http://127.0.0.1:40999/elsewhere/", {}, b"")
        return big, other

    (big_status, _), (other_status, _) = asyncio.run(main())
    assert (big_status, other_status) == (413, 404)
