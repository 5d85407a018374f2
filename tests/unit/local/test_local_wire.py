"""The entity batch and client binding wire formats, checked against the unmodified Durable SDK."""

from __future__ import annotations

import json
from typing import Any

import azure.durable_functions as df
import pytest
from azure.durable_functions.models.DurableOrchestrationBindings import DurableOrchestrationBindings

from durableagent.local.wire import client_binding
from durableagent.local.wire import entity_batch as wire


def _counter(context: df.DurableEntityContext) -> None:
    state = context.get_state(lambda: {"value": 0})
    op = context.operation_name
    if op == "add":
        state["value"] += context.get_input()
        context.set_state(state)
        context.set_result(state["value"])
    elif op == "get":
        context.set_result(state["value"])
    elif op == "boom":
        state["value"] = -999
        context.set_state(state)
        raise ValueError("boom!")
    elif op == "delete":
        context.destruct_on_exit()


HANDLE: Any = df.Entity.create(_counter)


def _run(state: str | None, *ops: wire.Operation) -> wire.BatchResult:
    request = wire.encode_request("Counter", "k1", exists=state is not None, state=state, batch=ops)
    return wire.decode_response(HANDLE(request), len(ops))


def _signal_input(value: Any) -> str:
    """What the extension stores for a client signal_entity(value): the JSON body, serialized again."""
    return json.dumps(json.dumps(value))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's one-shot df_loads advisory
def test_batch_round_trip_applies_operations_in_order() -> None:
    result = _run(
        None,
        wire.Operation("add", _signal_input(3), True),
        wire.Operation("add", json.dumps("4"), False),  # orchestrator call_entity: df_dumps(4) as text
        wire.Operation("get", None, False),
    )
    assert result.exists is True
    assert json.loads(result.state or "null") == {"value": 7}
    assert [r.is_error for r in result.results] == [False, False, False]
    assert [json.loads(r.result or "null") for r in result.results] == [3, 7, 7]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_state_is_not_rolled_back_and_errors_are_json_text() -> None:
    result = _run(json.dumps({"value": 1}), wire.Operation("boom", None, True))
    assert result.results[0].is_error is True
    assert json.loads(result.results[0].result or "null") == "boom!"
    assert json.loads(result.state or "null") == {"value": -999}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_falsy_signal_input_reaches_the_entity_as_null_and_fails_get_input() -> None:
    # signal_entity(eid, "add", 0) sends no body, so the operation input is null (protocol.md §4.2).
    result = _run(json.dumps({"value": 1}), wire.Operation("add", None, True))
    assert result.results[0].is_error is True
    assert "NoneType" in json.loads(result.results[0].result or "null")


def test_destruct_on_exit_deletes_the_entity() -> None:
    result = _run(json.dumps({"value": 1}), wire.Operation("delete", None, True))
    assert result.exists is False
    assert result.state is None


def test_untouched_state_is_returned_verbatim() -> None:
    raw = '{"value":   5}'
    handle: Any = df.Entity.create(lambda context: context.set_result(context.operation_name))
    request = wire.encode_request(
        "Counter", "k1", exists=True, state=raw, batch=[wire.Operation("noop", None, True)]
    )
    result = wire.decode_response(handle(request), 1)
    assert result.state == raw
    assert json.loads(result.results[0].result or "null") == "noop"


def test_encode_request_lowercases_the_name_and_keeps_texts() -> None:
    doc = json.loads(wire.encode_request("Counter", "K", exists=True, state='{"a":1}', batch=[]))
    assert doc == {"self": {"name": "counter", "key": "K"}, "exists": True, "state": '{"a":1}', "batch": []}
    name, key, exists, state, batch = wire.decode_request(
        wire.encode_request(
            "Counter", "K", exists=False, state=None, batch=[wire.Operation("op", '"x"', False)]
        )
    )
    assert (name, key, exists, state, batch) == (
        "counter",
        "K",
        False,
        None,
        (wire.Operation("op", '"x"', False),),
    )


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "[]",
        json.dumps({"entityExists": True, "entityState": "1", "results": []}),
        json.dumps({"entityExists": True, "entityState": 1, "results": [{"isError": False, "result": "1"}]}),
    ],
)
def test_decode_response_rejects_malformed_answers(bad: str) -> None:
    with pytest.raises(wire.BatchResponseError):
        wire.decode_response(bad, 1)


def test_encode_response_is_the_inverse_of_decode() -> None:
    result = wire.BatchResult(True, '{"v":1}', (wire.OperationResult(False, "1", 2, 3),))
    assert wire.decode_response(wire.encode_response(result), 1) == result


def test_call_response_marks_errors_with_exception_type() -> None:
    assert json.loads(wire.call_response(wire.OperationResult(False, "7"))) == {"result": "7"}
    failed = json.loads(wire.call_response(wire.OperationResult(True, '"boom"')))
    assert failed == {"result": '"boom"', "exceptionType": "Error"}


def test_client_binding_is_accepted_by_the_sdk_client() -> None:
    text = client_binding.client_binding_json(
        public_base_url="http://127.0.0.1:7071",
        rpc_base_url="http://127.0.0.1:17071/tok/durabletask/",
        task_hub="Hub",
        system_key="sys-key",
    )
    bindings = DurableOrchestrationBindings.from_json(text)
    assert bindings.rpc_base_url == "http://127.0.0.1:17071/tok/durabletask/"
    assert bindings.task_hub_name == "Hub"
    client = df.DurableOrchestrationClient(text)
    payload = client.create_http_management_payload("abc")
    assert payload["id"] == "abc"
    assert payload["statusQueryGetUri"] == (
        "http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/abc?taskHub=Hub&connection=Storage&code=sys-key"
    )
    assert payload["terminatePostUri"].startswith(
        "http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/abc/terminate?reason={text}&taskHub=Hub"
    )
    doc = json.loads(text)
    assert doc["requiredQueryStringParameters"] == "code=sys-key"
    assert doc["httpBaseUrl"] is None
    assert doc["connectionName"] is None


def test_client_binding_requires_trailing_slash() -> None:
    with pytest.raises(ValueError, match="must end with"):
        client_binding.client_binding(
            public_base_url="http://x", rpc_base_url="http://y/durabletask", task_hub="h"
        )
