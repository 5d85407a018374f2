"""How to run one host: the options of ``durableagent serve`` (``LocalHost`` builds them in thread mode)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from durableagent.local.inprocess_entities import DEFAULT_PER_ENTITY, DEFAULT_PER_HOST

DEFAULT_PORT = 7071
DEFAULT_MAX_BODY = 1024 * 1024


@dataclass
class ServeOptions:
    """How to run one host (``durableagent serve``'s flags; ``LocalHost`` builds one in thread mode).

    Attributes:
        rpc_port: The loopback port of the Durable webhooks (``rpcBaseUrl``); 0 picks a free one.
        graceful_timeout: Seconds in-flight HTTP requests get to finish on shutdown.
        entity_drain_timeout: Seconds running entity batches get on shutdown (the rest redeliver).
        handle_signals: Install SIGINT/SIGTERM handlers (only on the main thread).
        header_timeout: Seconds a connection may take to send a request's headers (then 408).
        max_connections: Open connections accepted at once (beyond: 503 and close).
        max_header_bytes: Largest request line + headers (beyond: 431).
        max_session_queue: Turns queued on one session before its runs get 429 (``backlog``).
        max_queued_turns: Turns queued on the whole host before runs get 429.
    """

    app_dir: Path
    host: str = "127.0.0.1"
    port: int | None = None  # None: local.settings.json Host.LocalHttpPort, else 7071
    store: str | None = None  # None: APP_DIR/.durableagent/store.sqlite; ":memory:" for tests
    script: str | None = None
    require_keys: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY
    rpc_port: int = 0
    graceful_timeout: float = 10.0
    entity_drain_timeout: float = 10.0
    handle_signals: bool = True
    owns_process: bool = False  # the serve command: the host may tune process-wide settings (GC)
    header_timeout: float = 10.0
    max_connections: int = 1024
    max_header_bytes: int = 64 * 1024
    max_session_queue: int = DEFAULT_PER_ENTITY
    max_queued_turns: int = DEFAULT_PER_HOST
    allowed_hosts: tuple[str, ...] = ()  # Host names answered beyond loopback and this machine's (HostNames)


def default_store(app_dir: Path) -> str:
    """Where a host keeps its store when ``--store`` is not given: ``APP_DIR/.durableagent/``."""
    return str(app_dir / ".durableagent" / "store.sqlite")
