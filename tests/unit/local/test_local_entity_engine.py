"""The entity engine against the real SDK entity handler, with an in-memory store (no sockets)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import types
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import azure.durable_functions as df
import pytest

from durableagent.local import entity_batches, entity_engine
from durableagent.local import entity_mailbox as mailbox
from durableagent.local.app_loading import index_app
from durableagent.local.entity_batches import EntityBatches, EntityCallResult
from durableagent.local.entity_engine import EntityEngine
from durableagent.local.indexing import plan_function
from durableagent.local.invoke import Invoker
from durableagent.local.store import MEMORY, Store

# The SDK's get_state() emits a one-shot DeprecationWarning (df_loads without expected_type); the
# entity runs in this process here, where filterwarnings=error would turn it into an operation error.
pytestmark = pytest.mark.filterwarnings("ignore:azure.functions df_loads:DeprecationWarning")


def _app_module() -> types.ModuleType:
    app = df.DFApp()

    @app.entity_trigger(context_name="context", entity_name="Recorder")
    def recorder(context: df.DurableEntityContext) -> None:
        tag = context.__dict__.setdefault("_tag", uuid.uuid4().hex)
        state = context.get_state(lambda: {"log": [], "batches": []})
        if context.operation_name == "put":
            value = json.loads(context._input)  # raw JSON text, avoids the SDK's df_loads advisory
            state["log"].append(value)
            if not state["batches"] or state["batches"][-1][0] != tag:
                state["batches"].append([tag, 0])
            state["batches"][-1][1] += 1
            context.set_state(state)
            context.set_result(len(state["log"]))
        elif context.operation_name == "fail":
            raise ValueError("nope")
        elif context.operation_name == "delete":
            context.destruct_on_exit()

    module = types.ModuleType("engine_test_app")
    module.__file__ = __file__
    module.app = app  # type: ignore[attr-defined]
    return module


class Sink:
    def __init__(self) -> None:
        self.written: list[tuple[bool, list[EntityCallResult]]] = []
        self.committed_results: list[EntityCallResult] = []

    def write(self, conn: sqlite3.Connection, results: Sequence[EntityCallResult]) -> None:
        self.written.append((conn.in_transaction, list(results)))

    def committed(self, results: Sequence[EntityCallResult]) -> None:
        self.committed_results.extend(results)


@pytest.fixture
def engine() -> Iterator[EntityEngine]:
    store = Store(MEMORY)
    index = index_app(_app_module())
    plans = {fn.get_function_name(): plan_function(fn) for fn in index.functions}
    invoker = Invoker(".", max_workers=4)
    yield EntityEngine(store, EntityBatches(store, index, plans, invoker), max_batch=4)
    invoker.shutdown()
    store.close()


async def _settle(engine: EntityEngine) -> None:
    for _ in range(500):
        if not engine._active and not await engine.store.read(entity_engine.pending_entities):
            return
        await asyncio.sleep(0.01)  # polling the engine's own state until it is idle
    raise AssertionError("engine did not settle")


def _state(engine: EntityEngine, eid: str) -> Any:
    row = engine.store.read_sync(lambda c: mailbox.read_entity(c, eid))
    return None if row is None else json.loads(row.state or "null")


def test_operations_apply_in_order_in_bounded_batches(engine: EntityEngine) -> None:
    async def go() -> None:
        await engine.start()
        for i in range(10):
            await engine.enqueue_operation("@recorder@k", "put", json.dumps(i), is_signal=True)
        await _settle(engine)
        await engine.stop(5)

    asyncio.run(go())
    state = _state(engine, "@recorder@k")
    assert state["log"] == list(range(10))
    sizes = [n for _tag, n in state["batches"]]
    assert sum(sizes) == 10
    assert max(sizes) <= 4


def test_concurrent_enqueues_to_an_idle_entity_all_run(engine: EntityEngine) -> None:
    """Two enqueues racing to start an idle entity's drain: neither operation is left in the mailbox.

    The first starts the drain with the batch it preloaded; the second, committed after that read,
    marks the entity dirty before the drain's task has run: that mark must survive the drain's start.
    """

    async def go() -> None:
        await engine.start()
        for round_ in range(20):
            eid = f"@recorder@race{round_}"
            await asyncio.gather(
                *(engine.enqueue_operation(eid, "put", json.dumps(i), is_signal=True) for i in range(2))
            )
        await _settle(engine)
        await engine.stop(5)

    asyncio.run(go())
    for round_ in range(20):
        assert sorted(_state(engine, f"@recorder@race{round_}")["log"]) == [0, 1]


def test_pending_mailboxes_are_redispatched_at_start(engine: EntityEngine) -> None:
    for i in range(3):
        engine.store.write_sync(
            lambda c, i=i: mailbox.enqueue(c, "@recorder@r", "put", json.dumps(i), is_signal=True)
        )

    async def go() -> None:
        await engine.start()
        await _settle(engine)
        await engine.stop(5)

    asyncio.run(go())
    assert _state(engine, "@recorder@r")["log"] == [0, 1, 2]


def test_each_committed_state_is_announced_after_it_is_committed(engine: EntityEngine) -> None:
    seen: list[tuple[str, Any]] = []

    def on_commit(entity: str, state: str | None) -> None:
        stored = _state(engine, entity)  # already in the store when announced
        seen.append((entity, None if state is None else json.loads(state)))
        assert stored == seen[-1][1]

    async def go() -> None:
        engine.on_commit = on_commit
        await engine.start()
        await engine.enqueue_operation("@recorder@p", "put", "1", is_signal=True)
        await _settle(engine)
        await engine.enqueue_operation("@recorder@p", "delete", None, is_signal=True, durable=False)
        await _settle(engine)
        await engine.stop(5)

    asyncio.run(go())
    assert [e for e, _ in seen] == ["@recorder@p", "@recorder@p"]
    assert seen[0][1]["log"] == [1]
    assert seen[1][1] is None
    assert _state(engine, "@recorder@p") is None


def test_call_results_are_written_in_the_batch_transaction(engine: EntityEngine) -> None:
    sink = Sink()
    engine.set_call_result_sink(sink)

    async def go() -> None:
        await engine.start()
        await engine.enqueue_operation(
            "@recorder@c", "put", '"a"', is_signal=False, reply_to=("orch-1", "guid-1")
        )
        await engine.enqueue_operation(
            "@recorder@c", "fail", None, is_signal=False, reply_to=("orch-1", "guid-2")
        )
        await engine.enqueue_operation("@recorder@c", "put", '"b"', is_signal=True)
        await _settle(engine)
        await engine.stop(5)

    asyncio.run(go())
    results = {r.request_id: r for _, batch in sink.written for r in batch}
    assert all(in_tx for in_tx, _ in sink.written)
    assert set(results) == {"guid-1", "guid-2"}
    assert json.loads(results["guid-1"].payload) == {"result": "1"}
    assert json.loads(results["guid-2"].payload) == {"result": '"nope"', "exceptionType": "Error"}
    assert results["guid-1"].instance_id == "orch-1"
    assert results["guid-1"].entity == "@recorder@c"
    assert {r.request_id for r in sink.committed_results} == {"guid-1", "guid-2"}
    assert _state(engine, "@recorder@c")["log"] == ["a", "b"]


def test_invocation_failure_fails_every_operation_keeps_state_and_drops_the_batch(
    engine: EntityEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = Sink()
    engine.set_call_result_sink(sink)
    engine.store.write_sync(
        lambda c: entity_batches.save_entity(c, "@recorder@f", exists=True, state='{"log": ["old"]}')
    )

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the whole invocation failed")

    monkeypatch.setattr(engine.batches.invoker, "invoke", broken)

    async def go() -> None:
        await engine.start()
        await engine.enqueue_operation("@recorder@f", "put", "1", is_signal=False, reply_to=("o", "g1"))
        await engine.enqueue_operation("@recorder@f", "put", "2", is_signal=True)
        await _settle(engine)
        await engine.stop(5)

    asyncio.run(go())
    assert _state(engine, "@recorder@f") == {"log": ["old"]}
    assert engine.store.read_sync(entity_engine.pending_entities) == []
    (result,) = sink.committed_results
    assert json.loads(result.payload)["exceptionType"] == "Error"


def test_unknown_entity_name_fails_its_operations(engine: EntityEngine) -> None:
    async def go() -> None:
        await engine.start()
        await engine.enqueue_operation("@nosuch@k", "put", "1", is_signal=True)
        await _settle(engine)
        await engine.stop(5)

    asyncio.run(go())
    assert _state(engine, "@nosuch@k") is None
    assert engine.has_entity("RECORDER")
    assert not engine.has_entity("nosuch")
