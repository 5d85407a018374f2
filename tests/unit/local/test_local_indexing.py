"""Indexing the app (once), the startup listing, and the command line's failure modes (no sockets)."""

from __future__ import annotations

import os
import types
from collections.abc import Iterator
from pathlib import Path

import azure.functions as func
import pytest

from durableagent.local import banner, cli
from durableagent.local.app_loading import find_app, import_script, index_app
from durableagent.local.bootstrap import build_context
from durableagent.local.host_context import HostContext
from durableagent.local.indexing import IndexingError
from durableagent.local.settings import load_settings
from durableagent.local.store import MEMORY, Store

PLAIN_DF = Path(__file__).resolve().parents[2] / "apps" / "plain_df"


@pytest.fixture
def ctx(monkeypatch: pytest.MonkeyPatch) -> Iterator[HostContext]:
    monkeypatch.setitem(os.environ, "DURABLEAGENT_SYSTEM_KEY", "sys")
    store = Store(MEMORY)
    context, _front = build_context(
        settings=load_settings(PLAIN_DF),
        store=store,
        public_base_url="http://127.0.0.1:7071",
        rpc_base_url="http://127.0.0.1:1/tok/durabletask/",
        require_keys=False,
        max_body_bytes=1024,
    )
    yield context
    context.invoker.shutdown()
    store.close()


def test_index_of_the_plain_app(ctx: HostContext) -> None:
    index = ctx.index
    routes = {fn.name: (fn.route, fn.methods, fn.auth_level) for fn in index.http}
    assert routes["hello"] == ("hello/{name?}", ("GET",), "anonymous")
    assert routes["keys_admin"][2] == "admin"
    assert routes["echo"][1] == ("POST", "PUT")
    assert set(index.entities) == {"counter"}
    assert index.entities["counter"].durable_name == "Counter"
    assert [(s.name, s.trigger_type) for s in index.listeners] == [("hourly", "timerTrigger")]
    assert index.skipped == []
    assert ctx.settings.hub_name == "PlainDfHub"


def test_banner_lists_urls_and_what_is_not_run(ctx: HostContext) -> None:
    text = banner.render(ctx, require_keys=False)
    assert "\thello: [GET] http://127.0.0.1:7071/api/hello/{name?}" in text
    assert "\tcounter: entityTrigger (Counter)" in text
    # Listeners are run by local/triggers; without that extension installed the banner says so.
    not_run = text.split("Not run by the local host:\n", 1)[1]
    assert "\thourly: timerTrigger (no engine for it installed)\n" in not_run
    assert "sys" not in text.split()  # the system key is never printed


def test_each_build_indexes_a_fresh_app_object(ctx: HostContext) -> None:
    # get_functions() raises on a second call on one app object; a rebuilt host imports a new module.
    again = index_app(import_script(PLAIN_DF, "function_app.py", fresh=True))
    assert again.app is not ctx.index.app


def test_exactly_one_function_app_is_required() -> None:
    module = types.ModuleType("two_apps")
    module.__file__ = "two_apps.py"
    module.a = func.FunctionApp()  # type: ignore[attr-defined]
    module.b = func.FunctionApp()  # type: ignore[attr-defined]
    with pytest.raises(IndexingError, match="found 2"):
        find_app(module)
    with pytest.raises(IndexingError, match="found 0"):
        find_app(types.ModuleType("none"))


def test_cli_reports_a_missing_app_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing"
    assert cli.main(["serve", str(missing), "--store", MEMORY]) == 1
    assert "app directory not found" in capsys.readouterr().err
    assert not missing.exists()


def test_context_links_and_client_binding(ctx: HostContext) -> None:
    links = ctx.management_urls("a b", "http://localhost:9")
    assert links["id"] == "a b"
    assert links["statusQueryGetUri"] == (
        "http://localhost:9/runtime/webhooks/durabletask/instances/a%20b?taskHub=PlainDfHub&connection=Storage&code=sys"
    )
    binding = ctx.client_binding_json()
    assert '"rpcBaseUrl": "http://127.0.0.1:1/tok/durabletask/"' in binding
