"""The printed table and the targets."""

from __future__ import annotations

from typing import Any

from bench import azure_path, side_by_side, windowing


def targets(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """``(target, measured, met)`` for each speed target (met is None when not measured)."""
    seq, floors, tput = r["turn"], r["floors"], r["throughput"]
    growth, mem = r["growth"], r["memory"]
    ratio = r["ratios"]["turn_over_health"]
    c1, c32 = tput["1"]["turns_per_s"], tput["32"]["turns_per_s"]
    c2r = r["commit_to_reply"]["p50_ms"]
    return [
        (
            "turn p50 <= 4x health p50",
            f"{ratio:.2f}x ({seq['p50_ms']:.2f} / {floors['health']['p50_ms']:.2f} ms)",
            ratio <= 4,
        ),
        ("turn p50 < 10 ms", f"{seq['p50_ms']:.2f} ms", seq["p50_ms"] < 10),
        ("commit -> reply p50 <= 2 ms", f"{c2r:.3f} ms", c2r <= 2),
        ("turns 550-600 <= 3x turns 5-55", f"{growth['ratio']:.2f}x", growth["ratio"] <= 3),
        ("32 clients >= 1.5x 1 client", f"{c32 / c1:.2f}x", c32 / c1 >= 1.5),
        ("32 clients >= 200 turns/s", f"{c32:.0f} turns/s", c32 >= 200),
        (f"RSS with {mem['sessions']} sessions < 200 MB", f"{mem['rss_mb']:.1f} MB", mem["rss_mb"] < 200),
        ("startup < 2 s", f"{r['startup']['median_s']:.2f} s", r["startup"]["median_s"] < 2),
        *(windowing.targets(r["window"]) if "window" in r else []),
    ]


def _row(name: str, value: str, note: str = "") -> str:
    return f"  {name:<46} {value:>24}  {note}"


def render(r: dict[str, Any]) -> str:
    m, seq, fl, ra = r["machine"], r["turn"], r["floors"], r["ratios"]
    lines = [
        f"durableagent bench - {m['cpu']}, {m['cores']} cores, Python {m['python']}, SQLite {m['sqlite']}",
        f"  load average before/after: {r['loadavg']['before']} / {r['loadavg']['after']}",
        f"  client: {r['client']['kind']}; its own round trip p50 {r['client']['p50_ms']:.3f} ms",
        "",
        "Sequential turns (POST run -> 200), "
        f"{seq['n']} turns over {r['params']['sessions']} sessions, interleaved with GET /api/health",
        _row("turn p50 / p95 / p99", f"{seq['p50_ms']:.2f} / {seq['p95_ms']:.2f} / {seq['p99_ms']:.2f} ms"),
        _row(
            "floor: GET /api/health round trip p50",
            f"{fl['health']['p50_ms']:.3f} ms",
            f"turn = {ra['turn_over_health']}x",
        ),
        _row(
            "floor: agent run in-process p50",
            f"{fl['agent_run']['p50_ms']:.3f} ms",
            f"turn = {ra['turn_over_agent']}x",
        ),
        _row(
            "floor: one SQLite commit (FULL) p50",
            f"{fl['sqlite_commit']['p50_ms']:.3f} ms",
            f"turn = {ra['turn_over_commit']}x ({fl['sqlite_commit']['state_bytes']} B state)",
        ),
        _row(
            "commit -> HTTP reply p50 / p95",
            f"{r['commit_to_reply']['p50_ms']:.3f} / {r['commit_to_reply']['p95_ms']:.3f} ms",
        ),
        "",
        "Throughput (distinct sessions per client)",
    ]
    for n, t in r["throughput"].items():
        cpu = f"host CPU {t['host_cpu_ms_per_turn']:.2f} ms/turn, {t['host_cpu_cores']:.2f} cores"
        lines.append(
            _row(f"{n} client(s)", f"{t['turns_per_s']:.0f} turns/s", f"p50 {t['p50_ms']:.2f} ms; {cpu}")
        )
    g = r["growth"]
    lines += [
        "",
        "Growth: one session, ~1 KB messages",
        _row(
            "turns 5-55 p50",
            f"{g['early_p50_ms']:.2f} ms",
            f"agent in-process {g['agent_early_p50_ms']:.2f} ms",
        ),
        _row(
            "turns 550-600 p50",
            f"{g['late_p50_ms']:.2f} ms",
            f"agent in-process {g['agent_late_p50_ms']:.2f} ms",
        ),
        _row(
            "ratio",
            f"{g['ratio']:.2f}x",
            f"turn minus agent: {g['overhead_early_ms']:.2f} -> {g['overhead_late_ms']:.2f} ms",
        ),
        _row(
            f"GET state at {g['read_turns']} turns, whole p50",
            f"{g['get_whole']['p50_ms']:.2f} ms",
            f"{g['get_whole_bytes']} B",
        ),
        _row(
            f"GET state at {g['read_turns']} turns, ?limit=20 p50",
            f"{g['get_page']['p50_ms']:.2f} ms",
            f"{g['get_page_bytes']} B",
        ),
        "",
        "Host",
        _row(
            f"RSS after {r['memory']['sessions']} stored sessions",
            f"{r['memory']['rss_mb']:.1f} MB",
            f"(after startup {r['memory']['rss_start_mb']:.1f} MB)",
        ),
        _row("startup to first served request (median of 3)", f"{r['startup']['median_s']:.2f} s"),
        "",
        "Targets",
    ]
    for name, measured, met in targets(r):
        lines.append(_row(name, measured, "met" if met else "NOT met"))
    lines += slow_rows(r.get("slow"))
    lines += azure_rows(r.get("azure_path"))
    lines += side_by_side.render(r)
    for extra in r.get("compare", []):
        if extra.get("peer"):
            continue  # in the side-by-side table
        lines += ["", f"Comparison: {extra['name']}"]
        if extra.get("skipped"):
            lines.append(f"  skipped: {extra['skipped']}")
            continue
        for key, value in extra["rows"]:
            lines.append(_row(key, value))
    return "\n".join(lines)


def render_sections(r: dict[str, Any]) -> str:
    """The sections run without the standard suite (``--sections slow,azure-path``)."""
    m = r["machine"]
    lines = [
        f"durableagent bench - {m['cpu']}, {m['cores']} cores, Python {m['python']}, SQLite {m['sqlite']}",
        f"  load average before/after: {r['loadavg']['before']} / {r['loadavg']['after']}",
    ]
    return "\n".join(lines + slow_rows(r.get("slow")) + azure_rows(r.get("azure_path")))


def azure_rows(az: dict[str, Any] | None) -> list[str]:
    """The Azure path (polling ``read_entity_state``) and its targets."""
    if not az:
        return []
    lines = ["", "The Azure path (DURABLEAGENT_INPROCESS_RPC=0: the route polls read_entity_state)"]
    lines += [_row(name, value, note) for name, value, note in azure_path.rows(az)]
    p50, reads = az["added"]["p50_ms"], az["reads_per_turn_max"]
    lines.append(_row("target: added p50 < 100 ms", f"{p50:.0f} ms", "met" if p50 < 100 else "NOT met"))
    lines.append(_row("target: <= 20 reads per turn", f"{reads}", "met" if reads <= 20 else "NOT met"))
    return lines


def slow_rows(slow: dict[str, Any] | None) -> list[str]:
    """durableagent's slow-model workloads (also in the side-by-side table when peers ran)."""
    if not slow:
        return []
    fly, sub = slow["in_flight"], slow["async"]
    return [
        "",
        f"Slow model ({slow['latency_ms']} ms per reply), durableagent",
        _row(
            f"{fly['sessions']} sessions, one turn each in flight",
            f"{fly['wall_s']:.2f} s",
            f"answered {fly['answered']}/{fly['sessions']}; peak RSS {fly['peak_rss_mb']:.0f} MB, "
            f"{fly['peak_threads']} threads; server CPU {fly.get('server_cpu_s', float('nan')):.1f} s "
            f"({fly.get('server_cpu_ms_per_turn', float('nan')):.1f} ms/turn)",
        ),
        _row(
            f"{sub['turns']} turns submitted async ({sub['per_session']}/session)",
            f"{sub['all_done_s']:.1f} s",
            f"accepted {sub['accepted']} in {sub['submit_s']:.1f} s; collected {sub['collected']}, "
            f"pending {sub['pending']}, lost {sub['lost']}, wrong {sub['wrong']}; "
            f"peak RSS {sub['peak_rss_mb']:.0f} MB",
        ),
    ]
