"""The durability battery's app: one agent on the offline model, instrumented to be checked from outside.

Why a dedicated app: the battery must observe what happens *inside* the host, not only what the
HTTP API says. Two probes write to files the test names in the environment:

* ``BATTERY_PROBE`` (agent middleware): one line per agent run entering and leaving, with the
  session, the process id and a sequence number, so the test can compute how many runs of one
  session overlapped (serialization) and how often a turn ran again after a crash;
* ``BATTERY_EFFECTS`` (the ``record_effect`` tool): a SQLite side-effect ledger; every execution
  is logged, and the effect is applied only once per ``durableagent.tools.idempotency_key``.

Two more fault sources: ``#flaky:NAME`` in a message fails like an unavailable model service until
the test creates ``NAME.healed`` in ``BATTERY_FLAKY_DIR`` (a transient failure that ends), and the
``detonate`` tool always raises an error whose text holds a fake secret, and ``inflate`` returns a
result too large to be stored with the turn.

The offline model's fault directives (``#sleep:``, ``#fail:``, ``#crash``) are enabled by the
test through ``DURABLEAGENT_OFFLINE_FAULTS=1``. Nothing here is meant for production.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from agent_framework import Agent, AgentContext, FunctionInvocationContext, agent_middleware

from durableagent import AgentFunctionApp, AppOptions
from durableagent.offline.model import OfflineChatClient, OfflineServiceError
from durableagent.tools import idempotency_key

_lock = threading.Lock()
_MARKER = re.compile(r"\bm-[A-Za-z0-9_]+-\d+\b")
_FLAKY = re.compile(r"#flaky:([A-Za-z0-9_-]+)")


def _probe_line(line: str) -> None:
    path = os.environ.get("BATTERY_PROBE")
    if not path:
        return
    with _lock:  # one write() per line with O_APPEND: lines never mix, even across restarts
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


@agent_middleware
async def concurrency_probe(context: AgentContext, call_next: Callable[[], Awaitable[None]]) -> None:
    """Record each agent run of a session: ``enter|exit <entity id> <pid> <marker>``."""
    session = context.session.session_id if context.session is not None else "-"
    found = _MARKER.findall(" ".join(m.text for m in context.messages if m.role == "user"))
    marker = found[-1] if found else "-"
    _probe_line(f"enter {session} {os.getpid()} {marker}")
    try:
        await call_next()
    finally:
        _probe_line(f"exit {session} {os.getpid()} {marker}")


@agent_middleware
async def flaky_upstream(context: AgentContext, call_next: Callable[[], Awaitable[None]]) -> None:
    """``#flaky:NAME`` fails like an unavailable model service until the file ``NAME.healed`` exists."""
    text = " ".join(m.text for m in context.messages if m.role == "user")
    flaky = _FLAKY.search(text)
    folder = os.environ.get("BATTERY_FLAKY_DIR")
    if flaky and folder and not Path(folder, flaky.group(1) + ".healed").exists():  # noqa: ASYNC240 - test app
        raise OfflineServiceError("offline model: service unavailable", 503, retry_after=1)
    await call_next()


def detonate(item: str) -> str:
    """Detonate an item (a tool that always fails, with a secret in its error)."""
    raise RuntimeError(f"tool failure for {item}; token=sk-test-SECRET-TOOL")


def inflate(item: str) -> str:
    """Inflate an item (a result far too large to be stored with the turn)."""
    return f"{item}:" + "x" * 600_000


def record_effect(item: str, ctx: FunctionInvocationContext) -> str:
    """Record an effect for an item (a side effect outside the conversation)."""
    path = os.environ.get("BATTERY_EFFECTS")
    if not path:
        return "no ledger"
    key = idempotency_key(ctx)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS executions (key TEXT NOT NULL, item TEXT NOT NULL)")
        conn.execute("CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, item TEXT NOT NULL)")
        conn.execute("INSERT INTO executions (key, item) VALUES (?, ?)", (key, item))
        applied = conn.execute(
            "INSERT OR IGNORE INTO effects (key, item) VALUES (?, ?)", (key, item)
        ).rowcount
    finally:
        conn.close()
    return "recorded" if applied else "already recorded"


agent = Agent(
    OfflineChatClient(),
    name="Battery",
    instructions="You are the battery's test agent.",
    tools=[record_effect, detonate, inflate],
    middleware=[concurrency_probe, flaky_upstream],
)

# A 1 MiB cap on stored turns: ``inflate`` (600,000 characters, repeated in the reply) is over it.
app = AgentFunctionApp(agents=[agent], options=AppOptions(wait_timeout=30.0, max_reply_bytes=1024 * 1024))
