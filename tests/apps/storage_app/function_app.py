"""Queue, blob and table triggers and bindings for the local host's Azurite tests.

Every function writes what it saw to storage (an output binding) or to the JSONL file named by the
``ATTEMPTS_LOG`` app setting, so tests observe effects instead of sleeping.
"""

from __future__ import annotations

import json
import os

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
STORAGE = "AzureWebJobsStorage"


def _attempt(function: str, **fields: object) -> None:
    with open(os.environ["ATTEMPTS_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"function": function, **fields}) + "\n")


@app.queue_trigger(arg_name="msg", queue_name="orders", connection=STORAGE)
@app.queue_output(arg_name="done", queue_name="orders-done", connection=STORAGE)
def process_order(msg: func.QueueMessage, done: func.Out[str]) -> None:
    body = msg.get_body().decode()
    _attempt("process_order", body=body, dequeue_count=msg.dequeue_count)
    if body.startswith("fail"):
        raise RuntimeError("this order always fails")
    done.set(json.dumps({"body": body.upper(), "dequeue_count": msg.dequeue_count, "id": msg.id}))


@app.queue_trigger(arg_name="msg", queue_name="flaky", connection=STORAGE)
@app.queue_output(arg_name="$return", queue_name="flaky-done", connection=STORAGE)
def flaky(msg: func.QueueMessage) -> str:
    _attempt("flaky", dequeue_count=msg.dequeue_count)
    if msg.dequeue_count < 2:
        raise RuntimeError("fails on the first delivery")
    return f"done after {msg.dequeue_count}"


@app.blob_trigger(arg_name="blob", path="uploads/{name}", connection=STORAGE)
@app.blob_output(arg_name="out", path="processed/{name}", connection=STORAGE)
def on_upload(blob: func.InputStream, out: func.Out[bytes]) -> None:
    content = blob.read()
    _attempt("on_upload", name=blob.name, length=blob.length)
    out.set(content.upper())


@app.route(route="items/{id}", methods=["PUT"])
@app.table_output(
    arg_name="row", table_name="items", partition_key="catalog", row_key="{id}", connection=STORAGE
)
def put_item(req: func.HttpRequest, row: func.Out[str]) -> func.HttpResponse:
    row.set(json.dumps({"Name": req.get_json()["name"], "Price": req.get_json()["price"]}))
    return func.HttpResponse(status_code=204)


@app.route(route="items/{id}", methods=["GET"])
@app.table_input(
    arg_name="item", table_name="items", partition_key="catalog", row_key="{id}", connection=STORAGE
)
def get_item(req: func.HttpRequest, item: str) -> func.HttpResponse:
    if item is None:
        return func.HttpResponse(status_code=404)
    return func.HttpResponse(item, mimetype="application/json")


@app.route(route="items", methods=["GET"])
@app.table_input(arg_name="items", table_name="items", partition_key="catalog", connection=STORAGE)
def list_items(req: func.HttpRequest, items: str) -> func.HttpResponse:
    return func.HttpResponse(items, mimetype="application/json")


@app.route(route="processed/{name}", methods=["GET"])
@app.blob_input(arg_name="content", path="processed/{name}", connection=STORAGE)
def read_processed(req: func.HttpRequest, content: str) -> func.HttpResponse:
    if content is None:
        return func.HttpResponse(status_code=404)
    return func.HttpResponse(content)


@app.blob_trigger(arg_name="blob", path="broken-uploads/{name}", connection=STORAGE)
def always_fails(blob: func.InputStream) -> None:
    _attempt("always_fails", name=blob.name)
    raise RuntimeError("cannot process this blob")
