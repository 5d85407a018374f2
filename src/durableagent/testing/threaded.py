"""Run the local host on a thread of the current process (``LocalHost(mode="thread")``).

Why: in-process hosts start faster and can be debugged, but they share the process: the
environment the host sets is restored on stop, and the Durable SDK's one-shot advisory warning is
consumed up front (``durableagent.compat.consume_df_loads_notice``). A thread cannot be
SIGKILLed; crash tests use subprocess mode.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from durableagent.compat import consume_df_loads_notice


class LocalHostError(RuntimeError):
    """The host did not start (the message carries its output or error)."""


class ThreadedHost:
    """A ``HostRunner`` on a daemon thread, with the process environment set while it runs."""

    def __init__(self, options: Any, env: Mapping[str, str]) -> None:
        """Hold the ``ServeOptions`` and the environment to apply; nothing starts yet."""
        self.options = options
        self.env = dict(env)
        self._runner: Any = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._saved_env: dict[str, str] | None = None

    @property
    def alive(self) -> bool:
        """Whether the host's thread is still running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float) -> str:
        """Start and wait until the host serves; returns its base URL."""
        from durableagent.local.server import HostRunner

        self._saved_env = dict(os.environ)
        os.environ.update(self.env)
        consume_df_loads_notice()
        runner = HostRunner(self.options)
        self._runner = runner

        def run() -> None:
            try:
                runner.run()
            except BaseException as exc:  # noqa: BLE001 - reported by start()
                self._error = exc
                runner.ready.set()

        self._thread = threading.Thread(target=run, name="localhost", daemon=True)
        self._thread.start()
        if not runner.ready.wait(timeout) or runner.base_url is None:
            self.stop(10)
            raise LocalHostError(f"local host did not start: {self._error!r}") from self._error
        return str(runner.base_url)

    def system_key(self) -> str | None:
        """The running host's system key (for the Durable webhooks), or None before start."""
        context = self._runner.context if self._runner is not None else None
        return None if context is None else str(context.keys.system)

    def stop(self, timeout: float) -> None:
        """Ask the host to stop, wait up to ``timeout`` s, and restore the saved environment."""
        if self._runner is not None:
            self._runner.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None
