"""``durableagent serve``: run a Durable Functions Python app on this machine (no Azure, no Core Tools).

Why: the command line is the contract developers and scripts rely on (``func start``-like output,
a single "Host started: <url>" line, exit code 1 with a one-line reason when the host cannot start).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from durableagent.local.inprocess_entities import DEFAULT_PER_ENTITY, DEFAULT_PER_HOST

_LEVELS = ("critical", "error", "warning", "info", "debug")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="durableagent", description="durableagent tools")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a Durable Functions app locally")
    serve.add_argument("app_dir", nargs="?", default=".", type=Path, help="the app directory (default: .)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=None, help="HTTP port (default: LocalHttpPort or 7071; 0: any)"
    )
    serve.add_argument(
        "--store",
        default=None,
        help="SQLite store path or :memory: (default: APP_DIR/.durableagent/store.sqlite)",
    )
    serve.add_argument("--script", default=None, help="app script (default: function_app.py)")
    serve.add_argument("--require-keys", action="store_true", help="enforce each HTTP function's auth level")
    serve.add_argument(
        "--max-body-bytes", type=int, default=1024 * 1024, help="request body limit (default 1 MiB)"
    )
    serve.add_argument(
        "--shutdown-timeout",
        type=float,
        default=10.0,
        help="seconds to let requests and entity batches finish on SIGTERM (default 10)",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        help="seconds for a request's headers (default 10; then 408)",
    )
    serve.add_argument(
        "--max-connections", type=int, default=1024, help="open connections accepted (default 1024; then 503)"
    )
    serve.add_argument(
        "--max-session-queue",
        type=_positive,
        default=DEFAULT_PER_ENTITY,
        help=f"turns queued on one session before its runs get 429 (default {DEFAULT_PER_ENTITY})",
    )
    serve.add_argument(
        "--max-queued-turns",
        type=_positive,
        default=DEFAULT_PER_HOST,
        help=f"turns queued on the host before runs get 429 (default {DEFAULT_PER_HOST})",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        help="a Host name to answer for besides loopback and this machine's (repeatable; else 421)",
    )
    serve.add_argument("--log-level", default="info", choices=_LEVELS)
    serve.add_argument(
        "--debug-logs",
        action="store_true",
        help="log failures with their text and traceback (may include user content; for development only)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``durableagent serve``; the exit code: 0 stopped, 1 could not start, 2 bad flags, 130 Ctrl-C."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.log_level != "debug":
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    if args.debug_logs:
        os.environ["DURABLEAGENT_DEBUG_LOGS"] = "1"
    if args.max_body_bytes < 1:
        print("durableagent: --max-body-bytes must be positive", file=sys.stderr)
        return 2
    from durableagent.local.indexing import IndexingError
    from durableagent.local.serve_options import ServeOptions
    from durableagent.local.server import HostRunner
    from durableagent.local.settings import SettingsError
    from durableagent.local.store_file import StoreError

    options = ServeOptions(
        app_dir=args.app_dir,
        host=args.host,
        port=args.port,
        store=args.store,
        script=args.script,
        require_keys=args.require_keys,
        max_body_bytes=args.max_body_bytes,
        graceful_timeout=args.shutdown_timeout,
        entity_drain_timeout=args.shutdown_timeout,
        owns_process=True,
        header_timeout=args.header_timeout,
        max_connections=args.max_connections,
        max_session_queue=args.max_session_queue,
        max_queued_turns=args.max_queued_turns,
        allowed_hosts=tuple(args.allowed_host),
    )
    try:
        code = HostRunner(options).run()
    except (StoreError, SettingsError, IndexingError, OSError) as exc:
        print(f"durableagent: cannot start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    _exit_despite_running_functions(code)
    return code


def _exit_despite_running_functions(code: int) -> None:
    """Leave even if a function thread is still busy after shutdown (its batch is redelivered later).

    Python joins worker threads at exit, so one entity operation stuck in a slow call would keep a
    stopped host alive. Everything acknowledged is committed and the store is closed by now.
    """
    busy = [t for t in threading.enumerate() if t.name.startswith("fn_") and t.is_alive()]
    for thread in busy:
        thread.join(0.5)
    if any(t.is_alive() for t in busy):
        logging.getLogger("durableagent.local").warning("exiting while a function is still running")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
