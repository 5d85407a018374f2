"""Wire the host's parts together: environment, keys, app index, plans, engines, routes, front door.

Why: ``server.py`` owns the process lifecycle (sockets, signals, shutdown order); this module owns
the object graph, so both stay small and the graph can be built in tests without a socket.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from durableagent.local import http_v2
from durableagent.local.app_loading import load_app_index
from durableagent.local.durable_api import DurableApi, install_entity_routes
from durableagent.local.entity_batches import DEFAULT_MAX, EntityBatches, EntityPool
from durableagent.local.entity_engine import EntityEngine
from durableagent.local.front_door import FrontDoor, HttpRoute
from durableagent.local.host_context import HostContext
from durableagent.local.http_protocol import HostNames
from durableagent.local.indexing import DURABLE_CLIENT, FunctionError, plan_function
from durableagent.local.invoke import Invoker
from durableagent.local.keys import build_keyring, host_keys, save_host_keys
from durableagent.local.router import Router
from durableagent.local.settings import AppSettings, apply_values, load_settings
from durableagent.local.store import MEMORY, Store
from durableagent.local.unsupported import refusal_plans

CONVERSATION_STORE_ENV = "DURABLEAGENT_CONVERSATION_STORE"
LOCAL_HOST_ENV = "DURABLEAGENT_LOCAL_HOST"


def prepare_environment(app_dir: Path, script: str | None, store_location: str) -> AppSettings:
    """Read the app's settings and set the environment the app is imported into (Core Tools order)."""
    settings = load_settings(app_dir, script)
    apply_values(settings.values)
    # Transcripts share the host's file and WAL; the host commits FULL after every entity operation,
    # so the store's own commits can skip their fsync (reasoning in durableagent.conversation.sqlite).
    conversation = (
        "memory:"
        if store_location == MEMORY
        else f"sqlite:{Path(store_location).resolve()}?synchronous=normal"
    )
    os.environ.setdefault(CONVERSATION_STORE_ENV, conversation)
    os.environ[LOCAL_HOST_ENV] = "1"
    root = str(app_dir)
    if root not in sys.path:
        sys.path.insert(0, root)
    return settings


def build_context(
    *,
    settings: AppSettings,
    store: Store,
    public_base_url: str,
    rpc_base_url: str,
    require_keys: bool,
    max_body_bytes: int,
    listen_host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
) -> tuple[HostContext, FrontDoor]:
    """Index the app and assemble the host: keys, call plans, invoker, entity engine, HTTP routes.

    Keys configured nowhere are generated and persisted in ``store`` (so they survive restarts).
    """
    stored = store.read_sync(host_keys)
    keys, new_keys = build_keyring(settings.keys, stored)
    if new_keys:
        store.write_sync(lambda conn: save_host_keys(conn, new_keys))
    # A fresh index per start: get_functions() may run only once per app object (a host restarted in
    # the same process, as the test harness does, must index a new one).
    index = load_app_index(settings.app_dir, settings.script)
    skipped = {s.name for s in index.skipped}
    plans = {
        fn.get_function_name(): plan_function(fn)
        for fn in index.functions
        if fn.get_function_name() not in skipped
    }
    plans.update(refusal_plans(index))  # functions with bindings the host cannot run: refused (501)
    invoker = Invoker(str(settings.app_dir))
    durable_api = DurableApi()
    pool = EntityPool(settings.max_entity_functions or DEFAULT_MAX)  # maxConcurrentEntityFunctions
    engine = EntityEngine(store, EntityBatches(store, index, plans, invoker, pool), settings.max_batch_size)
    install_entity_routes(durable_api, engine, store)
    ctx = HostContext(
        settings=settings,
        index=index,
        store=store,
        invoker=invoker,
        plans=plans,
        keys=keys,
        durable_api=durable_api,
        entities=engine,
        public_base_url=public_base_url,
        rpc_base_url=rpc_base_url,
    )
    routes: Router[HttpRoute] = Router(settings.route_prefix)
    v2 = http_v2.detect(os.environ)  # after the import: the app's web extension, if any
    if v2 is not None:
        ctx.banner_lines.append(lambda: [http_v2.banner_line(v2), ""])
    for fn in list(index.http):
        error = None if v2 is None else v2.load_error(fn, plans[fn.name])
        if error is not None:  # the worker's FunctionLoadError: listed, not served
            index.errors.append(FunctionError(fn.name, error))
            index.http.remove(fn)
            continue
        clients = tuple(
            (
                b.name,
                ctx.client_binding_json(getattr(b, "task_hub", None), getattr(b, "connection_name", None)),
            )
            for b in fn.function.get_bindings()
            if str(b.type) == DURABLE_CLIENT
        )
        trigger = fn.function.get_trigger().name
        routes.add(fn.route, fn.methods, HttpRoute(fn, plans[fn.name], trigger, clients, v2))
    front = FrontDoor(
        routes=routes,
        durable_api=durable_api,
        keys=keys,
        invoker=invoker,
        rpc_prefix="/" + rpc_base_url.split("/", 3)[3],
        require_keys=require_keys,
        max_body_bytes=max_body_bytes,
        rpc_max_body_bytes=max(16 * 1024 * 1024, 4 * max_body_bytes),
        public_base_url=public_base_url,
        host_names=HostNames(listen_host, allowed_hosts),
    )
    return ctx, front
