"""Floors measured in the bench process: the agent's ``run`` with the same offline model and the
same histories, and one durable SQLite commit of a session's state."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.hostproc import MODEL_ENV
from bench.load import KB_TEXT, growth_plan


def sample_agent(app_dir: Path) -> Any:
    """The sample's WeatherAgent, built by its own function_app.py on the offline model."""
    saved = {k: os.environ.pop(k) for k in MODEL_ENV if k in os.environ}
    try:
        spec = importlib.util.spec_from_file_location("bench_sample_app", app_dir / "function_app.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.environ.update(saved)
    return module.app.registration("WeatherAgent")


async def _calls(registration: Any, plan: list[tuple[int, str]], sessions: int) -> list[float]:
    from agent_framework import Message

    from durableagent.callbacks import AgentCallbackContext
    from durableagent.entity.agent_call import call_agent
    from durableagent.entity.history import SessionHistory

    histories = [SessionHistory() for _ in range(sessions)]
    samples = []
    for session, text in plan:
        user = Message(role="user", contents=[text])
        context = AgentCallbackContext(registration.name, "c", f"s{session}", text)
        started = time.perf_counter()
        result = await call_agent(registration, user, histories[session], f"s{session}", {}, context)
        samples.append(time.perf_counter() - started)
        histories[session].add(result.new_messages)
    return samples


def agent_run(registration: Any, turns: int, sessions: int) -> list[float]:
    """The agent's run for the same turns as the sequential workload (same texts and histories)."""
    plan = [(i % sessions, f"hello {i}") for i in range(turns)]
    return asyncio.run(_calls(registration, plan, sessions))


def agent_run_growth(
    registration: Any, turns: int, early: tuple[int, int]
) -> tuple[list[float], list[float]]:
    """The agent's run for the growth workload's turns (same plan, texts and histories); returns the
    early and late windows."""
    steps = growth_plan(turns, early)
    samples = asyncio.run(_calls(registration, [(k, f"turn {i} {KB_TEXT}") for k, i, _ in steps], 2))
    windows: dict[str, list[float]] = {"early": [], "late": [], "": []}
    for (_, _, role), sample in zip(steps, samples, strict=True):
        windows[role].append(sample)
    return windows["early"], windows["late"]


def sqlite_commit(directory: Path, state: str, n: int = 300) -> list[float]:
    """One ``BEGIN IMMEDIATE`` upsert of ``state`` + COMMIT, WAL, synchronous=FULL (like a batch commit)."""
    path = directory / "floor.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS entities (entity_id TEXT PRIMARY KEY, state TEXT)")
        samples = []
        for i in range(n + 20):
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO entities VALUES (?, ?)"
                " ON CONFLICT (entity_id) DO UPDATE SET state = excluded.state",
                (f"@weatheragent@s{i % 20}", f"{i} {state}"),  # changed content: SQLite skips no-op updates
            )
            conn.execute("COMMIT")
            if i >= 20:
                samples.append(time.perf_counter() - started)
        return samples
    finally:
        conn.close()


def a_session_state(store: Path, session_prefix: str) -> str:
    """The committed state text of one session of the sequential workload."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT state FROM entities WHERE entity_id = ?", (f"@weatheragent@{session_prefix}0",)
        ).fetchone()
    finally:
        conn.close()
    return str(row[0]) if row else "{}"


def stored_sessions(store: Path) -> int:
    """How many session entities the host's store holds."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM entities").fetchone()[0])
    finally:
        conn.close()
