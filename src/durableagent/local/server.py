"""Assemble and run the local host: store, app, engines, listeners, and an orderly shutdown.

Why: the order matters. The store is opened (and locked) before the app is imported, so a second
host on the same store fails fast; the app is indexed once; both listeners (public and loopback
RPC) are bound before anything is announced; "Host started" is printed only when requests are
served. On SIGTERM/SIGINT the listeners stop accepting, in-flight requests drain, running entity
batches get a bounded wait (unfinished ones stay in the mailbox and are redelivered), the Durable
SDK's module-global aiohttp session is closed, and the store is closed last.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from durableagent import compat, entity_client
from durableagent.local import banner, gc_tuning, keys
from durableagent.local import inprocess_entities as inproc
from durableagent.local.bootstrap import build_context, prepare_environment
from durableagent.local.front_door import FrontDoor
from durableagent.local.host_context import HostContext
from durableagent.local.http_protocol import protocol_class
from durableagent.local.serve_options import DEFAULT_PORT, ServeOptions, default_store
from durableagent.local.settings import AppSettings, SettingsError
from durableagent.local.store import MEMORY, Store

log = logging.getLogger("durableagent.local")
STARTED_LINE = "Host started: "
_WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - compared against, never bound here
# Optional engines: when the module exists and defines install(ctx: HostContext) -> None, it is called.
EXTENSIONS = ("durableagent.local.orchestrations", "durableagent.local.triggers")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP; without it
    # keep-alive responses wait ~40 ms on Nagle + delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (the host installs handlers that also stop engines)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()


def _open_store(app_dir: Path, store: str | None, script: str | None) -> tuple[AppSettings, Store]:
    """Settings and environment first (Core Tools order), then the store (locked before the import)."""
    app_dir = app_dir.resolve()
    if not app_dir.is_dir():
        raise SettingsError(f"app directory not found: {app_dir}")
    location = store or default_store(app_dir)
    settings = prepare_environment(app_dir, script, location)
    return settings, Store(location if location == MEMORY else Path(location).resolve())


class HostRunner:
    """Runs one host until stopped. ``run()`` blocks; ``request_stop()`` may be called from any thread."""

    def __init__(self, options: ServeOptions) -> None:
        """Prepare a host for ``options``; ``ready`` is set once it serves (or failed to start)."""
        self.options = options
        self.ready = threading.Event()
        self.base_url: str | None = None
        self.context: HostContext | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: _Server | None = None
        self._stop_requested = False

    def run(self) -> int:
        """Serve until stopped (on uvloop where it is installed); the exit code."""
        try:
            import uvloop
        except ImportError:  # Windows: uvloop is not available there
            return asyncio.run(self.main())
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(self.main())

    def request_stop(self) -> None:
        """Ask the host to shut down, as SIGTERM does; a second call stops waiting on connections."""
        self._stop_requested = True
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended: nothing left to stop
                loop.call_soon_threadsafe(self._on_signal)

    def _on_signal(self) -> None:
        server = self._server
        if server is not None and server.should_exit:
            server.force_exit = True  # a second signal: stop waiting for connections
        self._stop_requested = True
        if server is not None:
            server.should_exit = True

    async def main(self) -> int:
        """Open the store, load and index the app, bind both listeners, serve, then shut down in order.

        Returns:
            0 after a requested stop, 1 if the server could not start listening.
        """
        opts = self.options
        self._loop = asyncio.get_running_loop()
        if opts.handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(sig, self._on_signal)
        settings, store = _open_store(opts.app_dir, opts.store, opts.script)
        sockets: list[socket.socket] = []
        ctx: HostContext | None = None
        try:
            port = opts.port if opts.port is not None else (settings.local_http_port or DEFAULT_PORT)
            sockets.append(_bind(opts.host, port))
            sockets.append(_bind("127.0.0.1", opts.rpc_port))
            public_port = sockets[0].getsockname()[1]
            rpc_port = sockets[1].getsockname()[1]
            wildcard = opts.host in _WILDCARDS
            public_base = f"http://{'127.0.0.1' if wildcard else opts.host}:{public_port}"
            token = secrets.token_hex(16)
            rpc_base_url = f"http://127.0.0.1:{rpc_port}/{token}/durabletask/"
            ctx, front = build_context(
                settings=settings,
                store=store,
                public_base_url=public_base,
                rpc_base_url=rpc_base_url,
                require_keys=opts.require_keys,
                max_body_bytes=opts.max_body_bytes,
                listen_host=opts.host,
                allowed_hosts=opts.allowed_hosts,
            )
            front.rpc_port = rpc_port
            if os.environ.get(inproc.DISABLE_ENV) != "0":  # the app's routes reach the engine in-process
                admission = inproc.Admission(opts.max_session_queue, opts.max_queued_turns)
                entity_client.register_in_process(
                    rpc_base_url, inproc.InProcessEntities(ctx.entities, store, admission)
                )
            self.context = ctx
            for name in EXTENSIONS:
                _install_extension(name, ctx)
            return await self._serve(ctx, front, sockets, public_base)
        finally:
            for sock in sockets:
                sock.close()
            await self._shutdown(ctx, store)

    async def _serve(
        self, ctx: HostContext, front: FrontDoor, sockets: list[socket.socket], base: str
    ) -> int:
        config = uvicorn.Config(
            front,
            lifespan="off",
            log_config=None,
            access_log=False,
            http=protocol_class(
                header_timeout=self.options.header_timeout,
                max_header_bytes=self.options.max_header_bytes,
                max_connections=self.options.max_connections,
            ),
            ws="none",
            loop="asyncio",
            server_header=False,
            timeout_graceful_shutdown=max(1, round(self.options.graceful_timeout)),
        )
        server = _Server(config)
        self._server = server
        server.should_exit = self._stop_requested
        serving = asyncio.create_task(server.serve(sockets=sockets))
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait({serving, listening}, return_when=asyncio.FIRST_COMPLETED)
        if not listening.done():
            listening.cancel()
            await serving
            return 1
        await ctx.entities.start()
        for hook in ctx.on_start:
            await hook()
        if self.options.owns_process and gc_tuning.enabled():
            gc_tuning.settle()  # after the app and the engines are loaded, before the first request
        print(banner.render(ctx, require_keys=self.options.require_keys), flush=True)
        print(f"{STARTED_LINE}{base}", flush=True)
        self.base_url = base
        self.ready.set()
        await serving
        front.accepting = False
        return 0

    async def _shutdown(self, ctx: HostContext | None, store: Store) -> None:
        try:
            if ctx is not None:
                entity_client.unregister_in_process(ctx.rpc_base_url)
                await ctx.entities.stop(self.options.entity_drain_timeout)
                for hook in ctx.on_stop:
                    try:
                        await hook()
                    except Exception:
                        log.exception("shutdown hook failed")
                ctx.invoker.shutdown()
            await compat.close_sdk_http_session()
        finally:
            store.close()
            self.ready.set()


def _install_extension(name: str, ctx: HostContext) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return
        raise
    install = getattr(module, "install", None)
    if install is None:
        log.debug("extension %s has no install(ctx); skipped", name)
        return
    install(ctx)


def read_system_key(store_path: str) -> str | None:
    """The persisted system key of a store file (for tools and tests; the host need not run)."""
    import sqlite3

    if store_path == MEMORY or not os.path.exists(store_path):
        return None
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=30)
    try:
        return keys.host_keys(conn).get("system")
    finally:
        conn.close()
