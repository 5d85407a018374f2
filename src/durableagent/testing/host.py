"""``LocalHost``: start the local host for a test, wait until it serves, stop or kill it, restart it.

Why: integration tests and the durability battery need a real host on a free loopback port, with
the same store across restarts, and a way to die like ``kill -9`` does. Subprocess mode (default)
runs ``python -m durableagent serve`` exactly as a user would; thread mode runs the host in this
process (faster, debuggable, but it cannot be SIGKILLed and shares ``os.environ``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from durableagent.testing.threaded import LocalHostError, ThreadedHost

__all__ = ["MEMORY", "STARTED_PREFIX", "LocalHost", "LocalHostError"]

STARTED_PREFIX = "Host started: "
MEMORY = ":memory:"


class LocalHost:
    """One local host. Use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        app_dir: str | Path,
        *,
        store: str | Path | None = None,
        mode: str = "subprocess",
        host: str = "127.0.0.1",
        port: int = 0,
        require_keys: bool = False,
        max_body_bytes: int | None = None,
        script: str | None = None,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 30.0,
    ) -> None:
        """Describe the host to start; nothing runs until :meth:`start`.

        Args:
            app_dir: the Functions app folder (``function_app.py`` or function.json folders).
            store: SQLite file kept across restarts, or ``":memory:"``; default: a new temporary file.
            mode: ``"subprocess"`` (``python -m durableagent serve``, can be killed) or ``"thread"``.
            host: the address to listen on.
            port: 0 picks a free port on the first start; restarts then reuse it.
            require_keys: enforce each HTTP function's auth level (``--require-keys``).
            max_body_bytes: the request body limit; None keeps the host's 1 MiB.
            script: the app script in ``app_dir``; None means ``function_app.py``.
            env: environment variables set for the host, over this process's.
            extra_args: more ``serve`` arguments (subprocess mode only).
            startup_timeout: seconds to wait for the host to serve before :class:`LocalHostError`.

        Raises:
            ValueError: ``mode`` is neither of the two.
        """
        if mode not in ("subprocess", "thread"):
            raise ValueError("mode must be 'subprocess' or 'thread'")
        self.app_dir = Path(app_dir)
        self.store = (
            str(store)
            if store is not None
            else str(Path(tempfile.mkdtemp(prefix="durableagent-")) / "store.sqlite")
        )
        self.mode = mode
        self.host = host
        self.port = port
        self.require_keys = require_keys
        self.max_body_bytes = max_body_bytes
        self.script = script
        self.env = dict(env or {})
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self.system_key: str | None = None
        self.returncode: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._reader: threading.Thread | None = None
        self._threaded: ThreadedHost | None = None
        if self.store == MEMORY and "DURABLEAGENT_SYSTEM_KEY" not in self.env:
            from durableagent.local.keys import new_key

            self.env["DURABLEAGENT_SYSTEM_KEY"] = new_key()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> LocalHost:
        """Start the host and wait until it serves; sets ``base_url``, ``port`` and ``system_key``.

        Raises:
            LocalHostError: it is already running, or did not start in time (with its output).
        """
        if self.running:
            raise LocalHostError("host is already running")
        self.returncode = None
        if self.mode == "subprocess":
            self._start_process()
        else:
            self._threaded = ThreadedHost(self._options(), self.env)
            self.base_url = self._threaded.start(self.startup_timeout)
        self.port = int(self.base_url.rsplit(":", 1)[1])  # a restart reuses the port
        self.system_key = self.env.get("DURABLEAGENT_SYSTEM_KEY") or self._read_system_key()
        return self

    @property
    def running(self) -> bool:
        """Whether the host process (or thread) is still alive."""
        if self._proc is not None:
            return self._proc.poll() is None
        return self._threaded is not None and self._threaded.alive

    @property
    def pid(self) -> int | None:
        """The host process id in subprocess mode, else None."""
        return self._proc.pid if self._proc is not None else None

    def stop(self, timeout: float = 30.0) -> int | None:
        """Graceful stop (SIGTERM / request_stop); returns the exit code (None in thread mode)."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self.returncode = self._proc.wait()
            self._join_reader()
        elif self._threaded is not None:
            self._threaded.stop(timeout)
        return self.returncode

    def kill(self) -> int:
        """SIGKILL the host process (subprocess mode only): no cleanup runs, like a crash."""
        if self._proc is None:
            raise LocalHostError("kill() needs mode='subprocess'")
        self._proc.kill()
        self.returncode = self._proc.wait()
        self._join_reader()
        return self.returncode

    def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the process to end on its own (e.g. a DURABLEAGENT_CRASH_AT crash point)."""
        if self._proc is None:
            raise LocalHostError("wait_exit() needs mode='subprocess'")
        self.returncode = self._proc.wait(timeout)
        self._join_reader()
        return self.returncode

    def restart(self, **env: str) -> LocalHost:
        """Stop if running, then start again on the same store and port (``env`` updates the environment)."""
        if self.running:
            self.stop()
        self.env.update(env)
        return self.start()

    def output(self) -> str:
        """Everything the subprocess wrote so far (stdout and stderr)."""
        return "".join(self._lines)

    def __enter__(self) -> LocalHost:
        """Start the host (see :meth:`start`)."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the host gracefully if it is still running."""
        if self.running:
            self.stop()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this host (a leading slash is optional)."""
        return self.base_url + "/" + path.lstrip("/")

    # -- subprocess mode ------------------------------------------------------------------------

    def _args(self) -> list[str]:
        args = [
            "serve",
            str(self.app_dir),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--store",
            self.store,
        ]
        if self.require_keys:
            args.append("--require-keys")
        if self.max_body_bytes is not None:
            args += ["--max-body-bytes", str(self.max_body_bytes)]
        if self.script:
            args += ["--script", self.script]
        return args + self.extra_args

    def _start_process(self) -> None:
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        self._lines = []
        ready = threading.Event()
        proc = subprocess.Popen(
            [sys.executable, "-m", "durableagent", *self._args()],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self._proc = proc

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                self._lines.append(line)
                if line.startswith(STARTED_PREFIX):
                    self.base_url = line[len(STARTED_PREFIX) :].strip()
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read, name="localhost-output", daemon=True)
        self._reader.start()
        ready.wait(self.startup_timeout)
        if not self.base_url:
            if proc.poll() is None:
                proc.kill()
            self.returncode = proc.wait()
            self._join_reader()
            raise LocalHostError(f"local host did not start (exit code {self.returncode}):\n{self.output()}")

    def _join_reader(self) -> None:
        if self._reader is not None:
            self._reader.join(5)
        if self._proc is not None and self._proc.stdout is not None and self._proc.poll() is not None:
            self._proc.stdout.close()

    def _options(self) -> Any:
        from durableagent.local.serve_options import ServeOptions

        return ServeOptions(
            app_dir=self.app_dir,
            host=self.host,
            port=self.port,
            store=self.store,
            script=self.script,
            require_keys=self.require_keys,
            max_body_bytes=self.max_body_bytes or 1024 * 1024,
            handle_signals=False,
        )

    def _read_system_key(self) -> str | None:
        if self._threaded is not None and self.mode == "thread":
            return self._threaded.system_key()
        from durableagent.local.server import read_system_key

        return read_system_key(self.store)
