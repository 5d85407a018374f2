"""The serve command tunes the garbage collector of the process it owns; a thread-mode host doesn't."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

import httpx

from durableagent.local import gc_tuning as heap
from durableagent.testing.host import LocalHost

from .conftest import PLAIN_DF

GC_APP = """
import gc
import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="gc", methods=["GET"])
def gc_settings(req: func.HttpRequest) -> func.HttpResponse:
    body = {"threshold": list(gc.get_threshold()), "frozen": gc.get_freeze_count()}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")
"""


def _gc_of_host(
    local_host: Callable[..., LocalHost], app_dir: Path, env: dict[str, str]
) -> dict[str, object]:
    app_dir.mkdir()
    (app_dir / "function_app.py").write_text(GC_APP, encoding="utf-8")
    (app_dir / "host.json").write_text('{"version": "2.0"}', encoding="utf-8")
    host = local_host(app_dir, env=env)
    body: dict[str, object] = httpx.get(f"{host.base_url}/api/gc", timeout=30).json()
    return body


def test_serve_freezes_startup_objects(local_host: Callable[..., LocalHost], tmp_path: Path) -> None:
    tuned = _gc_of_host(local_host, tmp_path / "tuned", {})
    assert tuned["frozen"] > 1000  # type: ignore[operator]
    assert tuned["threshold"] == [700, 10, 10]  # CPython's thresholds are kept
    plain = _gc_of_host(local_host, tmp_path / "plain", {heap.TUNING_ENV: "0"})
    assert plain["threshold"] == [700, 10, 10]
    assert plain["frozen"] == 0


def test_a_thread_mode_host_leaves_the_test_process_collector_alone(
    local_host: Callable[..., LocalHost],
) -> None:
    before = (gc.get_threshold(), gc.get_freeze_count())
    host = local_host(PLAIN_DF, mode="thread")  # returns once the host serves (after any tuning)
    assert host.running
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
