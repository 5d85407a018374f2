"""The session entity's own batch loop (``session.run_batch``) against the SDK's ``Entity.handle``.

The session entity answers the entity trigger itself, as a coroutine, so it must read the batch
document and write its answer exactly as the unmodified SDK does: the same operations in order, the
same inputs, state and results, for signals (client) and calls (orchestrations) alike.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import azure.durable_functions as df
import pytest

from durableagent.entity.session import DELETE, SessionEntity, run_batch
from durableagent.entity.turn_io import operation_input
from durableagent.local.wire import entity_batch as wire


def _sdk_counter(context: df.DurableEntityContext) -> None:
    state = context.get_state(lambda: {"value": 0})
    if context.operation_name == "add":
        state["value"] += context.get_input()
        context.set_state(state)
        context.set_result(state["value"])
    elif context.operation_name == "get":
        context.set_result(state["value"])
    elif context.operation_name == "delete":
        context.set_result("deleted")  # an operation that sets none gets the one before's (SDK quirk)
        context.destruct_on_exit()


class _Counter:
    """The same counter behind the session entity's seam (state in; new state and result out)."""

    async def handle(self, operation: str | None, input_: Any, state: Any, session: str) -> tuple[Any, Any]:
        value = dict(state or {"value": 0})
        if operation == "add":
            value["value"] += input_
            return value, value["value"]
        if operation == "get":
            return value, value["value"]
        if operation == "delete":
            return DELETE, "deleted"
        raise ValueError(f"secret detail of {session}")


SDK: Any = df.Entity.create(_sdk_counter)
SIGNAL = json.dumps(json.dumps(5))  # a client's signal_entity(5), as the extension stores it
CALL = json.dumps("4")  # an orchestration's call_entity(4): df_dumps(4) as text


def _both(state: str | None, *ops: wire.Operation) -> tuple[wire.BatchResult, wire.BatchResult]:
    request = wire.encode_request("Counter", "k1", exists=state is not None, state=state, batch=ops)
    ours = asyncio.run(run_batch(cast(SessionEntity, _Counter()), request))
    return wire.decode_response(ours, len(ops)), wire.decode_response(SDK(request), len(ops))


def _view(result: wire.BatchResult) -> tuple[bool, Any, list[tuple[bool, Any]]]:
    state = json.loads(result.state) if result.state is not None else None
    return result.exists, state, [(r.is_error, json.loads(r.result or "null")) for r in result.results]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's one-shot df_loads advisory
@pytest.mark.parametrize(
    ("state", "ops"),
    [
        (None, [("add", SIGNAL, True), ("add", CALL, False), ("get", None, False)]),
        (json.dumps({"value": 10}), [("get", None, False)]),
        (json.dumps({"value": 10}), [("add", SIGNAL, True), ("delete", None, True)]),
        (json.dumps({"value": 10}), [("delete", None, True), ("add", CALL, False)]),
    ],
)
def test_batches_answer_as_the_sdk_does(state: str | None, ops: list[tuple[str, str | None, bool]]) -> None:
    ours, sdk = _both(state, *(wire.Operation(*op) for op in ops))
    assert _view(ours) == _view(sdk)


def test_a_failing_operation_fails_alone_keeps_the_state_and_names_no_exception_text() -> None:
    ours, _ = _both(
        json.dumps({"value": 1}),
        wire.Operation("add", SIGNAL, True),
        wire.Operation("unknown", None, True),
        wire.Operation("get", None, False),
    )
    exists, state, results = _view(ours)
    assert exists
    assert state == {"value": 6}
    assert [error for error, _ in results] == [False, True, False]
    assert results[2] == (False, 6)
    assert "secret" not in json.dumps(results)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    "raw", [None, SIGNAL, CALL, json.dumps(json.dumps({"a": [1, "x"]})), json.dumps(None)]
)
def test_operation_input_is_what_the_sdk_get_input_returns(raw: str | None) -> None:
    seen: list[Any] = []

    def record(context: df.DurableEntityContext) -> None:
        try:
            seen.append(context.get_input())
        except (TypeError, ValueError):  # no input: the SDK raises, the session entity sees None
            seen.append(None)

    request = wire.encode_request(
        "Counter", "k", exists=False, state=None, batch=[wire.Operation("op", raw, True)]
    )
    df.Entity.create(record)(request)
    assert seen == [operation_input(raw)]
