"""The long durability battery (``scripts/battery``): many kills, a long soak, repeated races.

Why a runner and not only pytest: the long variants take tens of minutes and their point is the
numbers (kills, turns acknowledged, lost, duplicated, 5xx, RSS growth), so this prints them as one
table, keeps going after a failed run, and exits 1 when any run failed. It uses the same clients,
killer and checks (and so the same invariants) as the CI battery in this directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .concurrent_runs import runs_at_once
from .hosts import CRASH_POINTS, BatteryFailure
from .kills import KillPlan, kill_battery
from .soaking import soak
from .turns import Stats

MIB = 2**20
RSS_LIMIT = 20 * MIB


@dataclass
class Row:
    name: str
    kills: str = "-"
    acked: str = "-"
    lost: str = "-"
    duplicated: str = "-"
    five_xx: str = "-"
    rss: str = "-"
    seconds: str = "-"
    result: str = "ok"
    note: str = ""


def _from_stats(row: Row, stats: Stats) -> None:
    row.acked, row.lost, row.duplicated = str(stats.acked), str(stats.lost), str(stats.duplicated)
    row.five_xx = str(stats.five_xx)


def run_kills(workdir: Path, kills: int, seed: int, log: Callable[[str], None]) -> Row:
    per_point = max(1, kills // 5 // len(CRASH_POINTS))
    plan = KillPlan(
        random_kills=max(0, kills - per_point * len(CRASH_POINTS)), per_point=per_point, seed=seed
    )
    row = Row(f"kill -9 ({plan.random_kills} random + {per_point}x{len(CRASH_POINTS)} crash points)")
    report = kill_battery(workdir, plan, log=log, check_every=1 if kills <= 100 else 5)
    _from_stats(row, report.stats)
    row.kills, row.seconds = str(report.stats.kills), f"{report.elapsed:.0f}"
    row.note = (
        f"{report.stats.retries} retries, {report.reads} GETs while changing; "
        f"agent re-runs {report.reexecutions}, "
        f"tool re-runs {report.tool_reexecutions} (each took effect once)"
    )
    if report.stats.five_xx or report.stats.lost or report.stats.duplicated:
        row.result = "FAIL"
    return row


def run_soak(workdir: Path, sessions: int, seconds: float, seed: int, growing: bool) -> Row:
    name = f"soak {sessions} sessions x {seconds:.0f}s" + (" (growing conversations)" if growing else "")
    row = Row(name)
    report = soak(workdir, sessions=sessions, seconds=seconds, seed=seed, session_turns=0 if growing else 50)
    _from_stats(row, report.stats)
    row.rss = f"{report.rss_growth / MIB:+.1f} MiB"
    row.seconds = f"{report.seconds:.0f}"
    row.note = report.summary()
    if report.stats.five_xx or report.stats.lost or report.stats.duplicated:
        row.result = "FAIL"
    elif growing:
        row.result = "report only"  # the history cache holds every conversation: growth is data, not a leak
    elif report.rss_growth >= RSS_LIMIT:
        row.result = "FAIL (RSS)"
    return row


def run_races(workdir: Path, repeats: int, seed: int) -> Row:
    from .hosts import battery_host

    row = Row(f"50 simultaneous runs on one session x{repeats}")
    stats = Stats()
    started = time.monotonic()
    host = battery_host(workdir).start()
    try:
        for i in range(repeats):
            runs_at_once(host.base_url, workdir, f"race{seed}r{i}", 50, stats, seed=seed + i)
    finally:
        host.stop()
    _from_stats(row, stats)
    row.seconds = f"{time.monotonic() - started:.0f}"
    return row


def _table(rows: Sequence[Row]) -> str:
    headers = ("run", "kills", "turns acked", "lost", "duplicated", "5xx", "RSS growth", "s", "result")
    cells = [headers] + [
        (r.name, r.kills, r.acked, r.lost, r.duplicated, r.five_xx, r.rss, r.seconds, r.result) for r in rows
    ]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(headers))]
    lines = [" | ".join(str(c[i]).ljust(widths[i]) for i in range(len(headers))) for c in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    notes = [f"  {r.name}: {r.note}" for r in rows if r.note]
    return "\n".join([*lines, "", *notes] if notes else lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/battery", description=__doc__)
    parser.add_argument("--kills", type=int, default=500, help="host kills in the kill -9 run (default 500)")
    parser.add_argument("--soak-seconds", type=float, default=300.0, help="soak duration (default 300)")
    parser.add_argument(
        "--growing-seconds",
        type=float,
        default=120.0,
        help="duration of the report-only soak with ever-growing conversations (default 120)",
    )
    parser.add_argument("--sessions", type=int, default=20, help="soak sessions (default 20)")
    parser.add_argument("--races", type=int, default=20, help="repeats of 50 simultaneous runs (default 20)")
    parser.add_argument("--quick", action="store_true", help="a reduced run: 60 kills, 60 s soak, 3 races")
    parser.add_argument(
        "--only",
        action="append",
        choices=("kill", "soak", "growing", "races"),
        help="run only these parts (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, default=None, help="keep stores and probes here")
    args = parser.parse_args(argv)
    if args.quick:
        args.kills, args.soak_seconds, args.growing_seconds, args.races = 60, 60.0, 45.0, 3
    parts = args.only or ["kill", "soak", "growing", "races"]
    root = args.workdir or Path(tempfile.mkdtemp(prefix="durableagent-battery-"))

    def log(line: str) -> None:
        print(f"  {line}", flush=True)

    jobs: dict[str, Callable[[Path], Row]] = {
        "kill": lambda w: run_kills(w, args.kills, args.seed, log),
        "soak": lambda w: run_soak(w, args.sessions, args.soak_seconds, args.seed, growing=False),
        "growing": lambda w: run_soak(w, args.sessions, args.growing_seconds, args.seed, growing=True),
        "races": lambda w: run_races(w, args.races, args.seed),
    }
    rows: list[Row] = []
    for part in parts:
        workdir = root / part
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"== {part} (work directory {workdir})", flush=True)
        started = time.monotonic()
        try:
            rows.append(jobs[part](workdir))
        except BatteryFailure as failure:
            rows.append(
                Row(part, seconds=f"{time.monotonic() - started:.0f}", result="FAIL", note=str(failure))
            )
    print()
    print(_table(rows))
    return 0 if all(r.result in ("ok", "report only") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
