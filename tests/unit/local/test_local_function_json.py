"""Indexing function.json apps (folders), mixed apps, %SETTING% references (no sockets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure.functions import meta

from durableagent.local import cli, setting_refs
from durableagent.local.app_loading import load_app_index
from durableagent.local.indexing import IndexingError
from durableagent.local.json_functions import FunctionJsonError, JsonBinding
from durableagent.local.settings import load_settings
from durableagent.local.store import MEMORY

HTTP_IN = {
    "authLevel": "anonymous",
    "name": "req",
    "type": "httpTrigger",
    "direction": "in",
    "methods": ["get"],
}
HTTP_OUT = {"name": "$return", "type": "http", "direction": "out"}
OK_MAIN = (
    "import azure.functions as func\n\n\n"
    "def main(req: func.HttpRequest) -> func.HttpResponse:\n    return func.HttpResponse('ok')\n"
)


def folder(
    app: Path, name: str, bindings: list[dict[str, object]], code: str = OK_MAIN, **extra: object
) -> Path:
    path = app / name
    path.mkdir(parents=True)
    (path / "function.json").write_text(json.dumps({"bindings": bindings, **extra}))
    (path / str(extra.get("scriptFile", "__init__.py"))).write_text(code)
    return path


def test_folders_are_indexed_with_their_http_properties(tmp_path: Path) -> None:
    folder(tmp_path, "Hello", [dict(HTTP_IN, route="hi/{name?}"), HTTP_OUT])
    index = load_app_index(tmp_path, "function_app.py")
    assert index.model == "function.json"
    [fn] = index.http
    assert (fn.name, fn.route, fn.methods, fn.auth_level) == ("Hello", "hi/{name?}", ("GET",), "anonymous")


def test_a_mixed_app_is_refused_with_the_hosts_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "function_app.py").write_text("import azure.functions as func\napp = func.FunctionApp()\n")
    folder(tmp_path, "Legacy", [HTTP_IN, HTTP_OUT])
    folder(tmp_path, "Other", [HTTP_IN, HTTP_OUT])
    with pytest.raises(
        IndexingError,
        match=r"Detected mixed function app\. Some functions may not be indexed - Legacy, Other",
    ):
        load_app_index(tmp_path, "function_app.py")
    assert cli.main(["serve", str(tmp_path), "--store", MEMORY, "--port", "0"]) == 1
    assert "Detected mixed function app" in capsys.readouterr().err


def test_functions_in_error_do_not_stop_the_others(tmp_path: Path) -> None:
    folder(tmp_path, "Good", [HTTP_IN, HTTP_OUT])
    folder(tmp_path, "NoTrigger", [HTTP_OUT])
    folder(tmp_path, "MissingScript", [HTTP_IN, HTTP_OUT], scriptFile="run.py")
    (tmp_path / "MissingScript" / "run.py").unlink()
    folder(tmp_path, "ExtraParam", [HTTP_IN, HTTP_OUT], code="def main(req, other):\n    return None\n")
    folder(
        tmp_path,
        "OutMismatch",
        [HTTP_IN, HTTP_OUT],
        code="import azure.functions as func\n\n\ndef main(req: func.Out[str]):\n    return None\n",
    )
    folder(tmp_path, "Raises", [HTTP_IN, HTTP_OUT], code="raise RuntimeError('secret text')\n")
    folder(tmp_path, "NoMain", [HTTP_IN, HTTP_OUT], code="def other(req):\n    return None\n")
    folder(tmp_path, "9bad", [HTTP_IN, HTTP_OUT])
    index = load_app_index(tmp_path, "function_app.py")
    assert [f.name for f in index.http] == ["Good"]
    errors = {e.name: e.message for e in index.errors}
    assert "No trigger binding specified" in errors["NoTrigger"]
    assert "'scriptFile' property is set to a file that does not exist" in errors["MissingScript"]
    assert "declared in Python but not in function.json: {'other'}" in errors["ExtraParam"]
    assert 'declared to have the "in" direction in function.json' in errors["OutMismatch"]
    assert errors["Raises"] == "the module could not be imported (RuntimeError)"  # no exception text
    assert "function main() is not present in NoMain/__init__.py" in errors["NoMain"]
    assert errors["9bad"] == "'9bad' is not a valid function name."


def test_no_script_and_no_folders_names_both(tmp_path: Path) -> None:
    with pytest.raises(IndexingError, match=r"script not found: .*and no folder with a function\.json"):
        load_app_index(tmp_path, "function_app.py")


def test_binding_properties_are_case_insensitive_and_snake_cased() -> None:
    binding = JsonBinding(
        {"Name": "starter", "TYPE": "orchestrationClient", "Direction": "In", "taskHub": "H"}
    )
    assert (binding.name, binding.type, binding.direction) == ("starter", "durableClient", 0)
    assert binding.task_hub == "H"
    with pytest.raises(FunctionJsonError, match="direction"):
        JsonBinding({"name": "x", "type": "queue"})


def test_setting_references(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = {"Q": "orders", "Schedules__Nightly": "0 0 3 * * *"}
    assert setting_refs.resolve_tokens("%Q%-poison", settings) == "orders-poison"
    assert setting_refs.resolve_tokens("%Schedules:Nightly%", settings) == "0 0 3 * * *"
    with pytest.raises(setting_refs.UnresolvedSetting, match=r"'%MISSING%' does not resolve to a value\."):
        setting_refs.resolve_tokens("%MISSING%", settings)
    assert setting_refs.try_resolve_whole("%Q%", settings) == "orders"
    assert setting_refs.try_resolve_whole("%MISSING%", settings) == "%MISSING%"  # left as written
    assert setting_refs.try_resolve_whole("a%Q%", settings) == "a%Q%"  # only a whole reference


def test_unresolved_binding_reference_puts_the_function_in_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_HUB", "HubFromSetting")
    client = {"name": "client", "type": "durableClient", "direction": "in", "taskHub": "%MY_HUB%"}
    code = "def main(req, client: str):\n    return None\n"
    folder(tmp_path, "WithHub", [HTTP_IN, HTTP_OUT, client], code=code)
    folder(tmp_path, "Missing", [HTTP_IN, HTTP_OUT, dict(client, taskHub="%NOPE%")], code=code)
    index = load_app_index(tmp_path, "function_app.py")
    [fn] = index.http
    assert [getattr(b, "task_hub", None) for b in fn.function.get_bindings()][-1] == "HubFromSetting"
    assert [(e.name, e.message) for e in index.errors] == [
        ("Missing", "'%NOPE%' does not resolve to a value.")
    ]


def test_host_json_hub_name_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"durableTask": {"hubName": "%HUB%"}}}))
    (tmp_path / "local.settings.json").write_text(json.dumps({"Values": {"HUB": "FromValues"}}))
    monkeypatch.delenv("HUB", raising=False)
    assert load_settings(tmp_path).hub_name == "FromValues"
    monkeypatch.setenv("HUB", "FromEnvironment")  # the environment wins, as in Core Tools
    assert load_settings(tmp_path).hub_name == "FromEnvironment"


def test_durable_functions_with_unsupported_bindings_are_refused_before_user_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from durableagent.local.bootstrap import build_context
    from durableagent.local.store import Store
    from durableagent.local.unsupported import BindingNotSupported

    monkeypatch.setenv("DURABLEAGENT_SYSTEM_KEY", "sys")
    marker = tmp_path / "ran"
    code = f"def main(value: str, out) -> str:\n    open({str(marker)!r}, 'w').close()\n    return value\n"
    activity = {"name": "value", "type": "activityTrigger", "direction": "in"}
    bus = {"name": "out", "type": "serviceBus", "direction": "out", "queueName": "orders"}
    folder(tmp_path, "Publish", [activity, bus], code=code)
    store = Store(MEMORY)
    ctx, _front = build_context(
        settings=load_settings(tmp_path),
        store=store,
        public_base_url="http://127.0.0.1:7071",
        rpc_base_url="http://127.0.0.1:1/tok/durabletask/",
        require_keys=False,
        max_body_bytes=1024,
    )
    try:
        assert [(u.function, u.binding, u.type, u.direction) for u in ctx.index.unsupported] == [
            ("Publish", "out", "serviceBus", "out")
        ]
        with pytest.raises(BindingNotSupported, match=r"'out' \(serviceBus\)"):
            asyncio.run(_invoke(ctx, ctx.index.activities["publish"], '"x"'))
        assert not marker.exists()
    finally:
        ctx.invoker.shutdown()
        store.close()


async def _invoke(ctx: Any, function: Any, payload: str) -> Any:
    """Invoke a durable function of the host with its trigger payload (a JSON text)."""
    fn = function.function
    return await ctx.invoker.invoke(
        ctx.plans[function.name], {fn.get_trigger().name: meta.Datum(payload, "string")}
    )
