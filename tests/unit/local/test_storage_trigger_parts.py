"""The pure parts of the storage triggers: host.json queue options, binding expressions, blob paths,
polling backoff, poison queue names, storage connections and table output entities."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from azure.functions import meta

from durableagent.local.triggers import queue_options, table_json
from durableagent.local.triggers.binding_expressions import BindingExpressionError, binding_data, resolve
from durableagent.local.triggers.blob_listener import BlobPathError, compile_path
from durableagent.local.triggers.invocation import binding_props
from durableagent.local.triggers.queue_listener import Backoff, poison_queue_name
from durableagent.local.triggers.storage_account import (
    StorageSettingError,
    connection_string,
    local_endpoints,
)


def _options(tmp_path: Path, queues: object) -> queue_options.QueueOptions:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"queues": queues}}))
    return queue_options.load(tmp_path)


def test_queue_option_defaults(tmp_path: Path) -> None:
    options = queue_options.load(tmp_path)  # no host.json
    assert (options.batch_size, options.max_dequeue_count, options.base64) == (16, 5, True)
    assert options.max_polling_interval == timedelta(minutes=1)
    assert options.visibility_timeout == timedelta(0)


def test_queue_options_from_host_json(tmp_path: Path) -> None:
    queues = {"BatchSize": 4, "newBatchThreshold": 0, "maxPollingInterval": "00:00:02",
              "visibilityTimeout": "00:00:30", "maxDequeueCount": 2, "messageEncoding": "none"}  # fmt: skip
    options = _options(tmp_path, queues)
    assert (options.batch_size, options.new_batch_threshold, options.max_dequeue_count) == (4, 0, 2)
    assert options.max_polling_interval == timedelta(seconds=2)
    assert options.visibility_timeout == timedelta(seconds=30)
    assert options.base64 is False
    assert _options(tmp_path, {"maxPollingInterval": 2000}).max_polling_interval == timedelta(seconds=2)


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        ({"batchSize": 33}, "batchSize"),
        ({"maxDequeueCount": 0}, "maxDequeueCount"),
        ({"maxPollingInterval": "00:00:00.05"}, "at least 100 ms"),
        ({"visibilityTimeout": "soon"}, "visibilityTimeout"),
        ({"messageEncoding": "utf8"}, "messageEncoding"),
    ],
)
def test_bad_queue_options(tmp_path: Path, queues: object, message: str) -> None:
    with pytest.raises(queue_options.QueueOptionsError, match=message):
        _options(tmp_path, queues)


def test_binding_expressions() -> None:
    data = binding_data({"Name": meta.Datum("a/b.txt", "string"), "Props": meta.Datum('{"Size": 3}', "json")})
    assert resolve("out/{name}", data) == "out/a/b.txt"
    assert resolve("{props.size}-{NAME}", data) == "3-a/b.txt"
    assert len(resolve("x/{rand-guid}", data)) == len("x/") + 36
    with pytest.raises(BindingExpressionError, match="missing"):
        resolve("out/{missing}", data)


def test_blob_trigger_paths() -> None:
    container, prefix, pattern = compile_path("uploads/in/{name}.{ext}")
    assert (container, prefix) == ("uploads", "in/")
    match = pattern.match("in/photo.raw.jpg")
    assert match is not None
    assert match.groupdict() == {"name": "photo", "ext": "raw.jpg"}
    assert pattern.match("out/photo.jpg") is None
    assert compile_path("uploads")[2].match("any/blob") is not None
    with pytest.raises(BlobPathError):
        compile_path("{container}/x")


def test_backoff_grows_to_the_maximum_and_resets() -> None:
    backoff = Backoff(timedelta(seconds=1))
    delays = [backoff.next(found_messages=False) for _ in range(8)]
    assert delays[0] == pytest.approx(0.1)
    assert delays == sorted(delays)
    assert delays[-1] == 1.0
    assert backoff.next(found_messages=True) == pytest.approx(0.1)


def test_poison_queue_names() -> None:
    assert poison_queue_name("orders") == "orders-poison"
    assert poison_queue_name("orders-poison") is None
    assert poison_queue_name("q" * 60) is None


def test_storage_connections() -> None:
    env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "AzureWebJobsOther": "conn-other"}
    assert connection_string(None, env) == "UseDevelopmentStorage=true"
    assert connection_string("Other", env) == "conn-other"  # the AzureWebJobs prefix
    with pytest.raises(StorageSettingError, match="identity-based"):
        connection_string("Ident", {"Ident__queueServiceUri": "https://x"})
    with pytest.raises(StorageSettingError, match="'Missing'"):
        connection_string("Missing", {})
    assert local_endpoints("UseDevelopmentStorage=true") == {
        "blob": ("127.0.0.1", 10000), "queue": ("127.0.0.1", 10001), "table": ("127.0.0.1", 10002),
    }  # fmt: skip
    assert local_endpoints("AccountName=a;AccountKey=k;EndpointSuffix=core.windows.net") is None


def test_table_output_entities() -> None:
    resolved = table_json.entities(
        '{"Name": "x"}', {"partitionKey": "p", "rowKey": "{id}"}, lambda t: t.upper()
    )
    assert resolved == [{"Name": "x", "PartitionKey": "P", "RowKey": "{ID}"}]
    many = table_json.entities(
        '[{"PartitionKey": "a", "RowKey": "1"}, {"PartitionKey": "a", "RowKey": "2"}]', {}, str
    )
    assert [e["RowKey"] for e in many] == ["1", "2"]
    with pytest.raises(table_json.TableBindingError, match="RowKey"):
        table_json.entities('{"PartitionKey": "a"}', {}, str)


def test_binding_properties_are_case_insensitive() -> None:
    props = binding_props({"type": "queueTrigger", "queuename": "orders", "Connection": "Store"})
    assert props.get("queueName") == "orders"
    assert props["connection"] == "Store"
    assert "QUEUENAME" in props
    assert props.get("path") is None
