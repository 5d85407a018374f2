"""The side-by-side table of ``scripts/bench --compare``: durableagent | Restate | DBOS, one row per
measure, all from the same run, and durableagent's ratios to each peer against the issue's targets."""

from __future__ import annotations

import importlib.metadata
from typing import Any

Doc = dict[str, Any]
NAME_W, COL_W = 44, 22


def durableagent_doc(r: Doc) -> Doc:
    """durableagent's numbers from the top-level results, in the peers' layout."""
    return {
        "name": "durableagent",
        "version": f"durableagent {importlib.metadata.version('durableagent')}",
        "turn": r["turn"],
        "health": r["floors"]["health"],
        "turn_over_health": r["ratios"]["turn_over_health"],
        "throughput": r["throughput"],
        "growth": r["growth"],
        "memory": {"created": r["memory"]["sessions"], **r["memory"]},
        "startup": r["startup"],
        "slow": r.get("slow", {}),
        "load": r.get("load", {}),
    }


def again_doc(r: Doc) -> Doc | None:
    """durableagent's second sample (sequential turns, throughput) taken after the peers."""
    again = r.get("durableagent_again")
    return None if again is None else {"name": "durableagent again", "version": "(after the peers)", **again}


def _get(doc: Doc, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _fmt(fmt: str, *values: Any) -> str:
    return "-" if any(v is None for v in values) else fmt.format(*values)


Path = tuple[str, ...]
ROWS: list[tuple[str, str, tuple[Path, ...]]] = [
    ("turn p50 / p95", "{:.2f} / {:.2f} ms", (("turn", "p50_ms"), ("turn", "p95_ms"))),
    (
        "health round trip p50 (turn = Nx)",
        "{:.2f} ms ({:.1f}x)",
        (("health", "p50_ms"), ("turn_over_health",)),
    ),
    *[
        (
            f"{n} client(s): turns/s (p50)",
            "{:.0f} ({:.1f} ms)",
            (("throughput", n, "turns_per_s"), ("throughput", n, "p50_ms")),
        )
        for n in ("1", "8", "32")
    ],
    ("server CPU cores busy, 32 clients", "{:.2f}", (("throughput", "32", "host_cpu_cores"),)),
    (
        "growth p50: turns 5-55 -> 550-600",
        "{:.1f} -> {:.1f} ms",
        (("growth", "early_p50_ms"), ("growth", "late_p50_ms")),
    ),
    ("growth ratio", "{:.2f}x", (("growth", "ratio"),)),
    ("RSS after the stored sessions", "{:.0f} MB ({})", (("memory", "rss_mb"), ("memory", "created"))),
    ("startup (median of 3)", "{:.2f} s", (("startup", "median_s"),)),
    ("machine load (1 min) before -> after", "{:.1f} -> {:.1f}", (("load", "before"), ("load", "after"))),
    ("slow model: sessions in flight at once", "{}", (("slow", "in_flight", "sessions"),)),
    ("  wall until all answered", "{:.2f} s", (("slow", "in_flight", "wall_s"),)),
    (
        "  answered right / failed",
        "{} / {}",
        (("slow", "in_flight", "answered"), ("slow", "in_flight", "failed")),
    ),
    (
        "  peak RSS / threads",
        "{:.0f} MB / {}",
        (("slow", "in_flight", "peak_rss_mb"), ("slow", "in_flight", "peak_threads")),
    ),
    (
        "slow model: turns submitted async",
        "{} ({}/session)",
        (("slow", "async", "turns"), ("slow", "async", "per_session")),
    ),
    (
        "  accepted (202) / submit time",
        "{} / {:.1f} s",
        (("slow", "async", "accepted"), ("slow", "async", "submit_s")),
    ),
    (
        "  collected / pending / lost / wrong",
        "{} / {} / {} / {}",
        (
            ("slow", "async", "collected"),
            ("slow", "async", "pending"),
            ("slow", "async", "lost"),
            ("slow", "async", "wrong"),
        ),
    ),
    ("  all done after", "{:.1f} s", (("slow", "async", "all_done_s"),)),
    (
        "  peak RSS / threads",
        "{:.0f} MB / {}",
        (("slow", "async", "peak_rss_mb"), ("slow", "async", "peak_threads")),
    ),
]
"""``(label, format, paths)``: a cell formats the values at ``paths`` in a doc ("-" if one is missing)."""


def _cell(doc: Doc, fmt: str, paths: tuple[Path, ...]) -> str:
    return _fmt(fmt, *(_get(doc, *path) for path in paths))


def rows(doc: Doc) -> list[tuple[str, str]]:
    """One server's column as ``(label, value)`` rows (for ``--only-compare``)."""
    return [("version", str(doc.get("version", "?"))), *((label, _cell(doc, f, p)) for label, f, p in ROWS)]


def _ratio(ours: Any, theirs: Any) -> float | None:
    return None if ours is None or not theirs else ours / theirs


def targets(ours: Doc, peer: Doc) -> list[tuple[str, str, bool | None]]:
    """durableagent against one peer: turn p50 at most half, 8/32-client throughput at least 1.5x."""
    name = peer["name"]
    out: list[tuple[str, str, bool | None]] = []
    t = _ratio(_get(ours, "turn", "p50_ms"), _get(peer, "turn", "p50_ms"))
    out.append((f"turn p50 <= 0.5x {name}'s", _fmt("{:.2f}x", t), None if t is None else t <= 0.5))
    for n in ("8", "32"):
        x = _ratio(_get(ours, "throughput", n, "turns_per_s"), _get(peer, "throughput", n, "turns_per_s"))
        out.append((f"{n} clients >= 1.5x {name}'s", _fmt("{:.2f}x", x), None if x is None else x >= 1.5))
    return out


def render(r: Doc) -> list[str]:
    """The table lines (empty when no peer ran)."""
    peers = [c for c in r.get("compare", []) if c.get("peer")]
    if not peers:
        return []
    again = again_doc(r)
    docs = [durableagent_doc(r), *[p for p in peers if not p.get("skipped")], *([again] if again else [])]
    lines = [
        "",
        "Side by side: same raw keep-alive client, same fake model and message sizes, same loads",
        f"  {'':<{NAME_W}}" + "".join(f"{d['name']:>{COL_W}}" for d in docs),
    ]
    lines.append(
        f"  {'version':<{NAME_W}}"
        + "".join(f"{str(d.get('version', '?'))[: COL_W - 1]:>{COL_W}}" for d in docs)
    )
    for label, fmt, paths in ROWS:
        lines.append(f"  {label:<{NAME_W}}" + "".join(f"{_cell(d, fmt, paths):>{COL_W}}" for d in docs))
    for p in peers:
        if p.get("skipped"):
            lines.append(f"  {p['name']}: skipped ({p['skipped']})")
        else:
            lines.append(f"  {p['name']}: {p.get('setup', '')}")
    lines += ["", "Targets against the peers (same run; 'again' = durableagent's sample after the peers)"]
    for p in (d for d in docs[1:] if d is not again):
        first = targets(docs[0], p)
        second = targets(again, p) if again else [(n, "-", None) for n, _, _ in first]
        for (name, measured, met), (_, measured2, met2) in zip(first, second, strict=True):
            verdict = "not measured" if met is None else ("met" if met else "NOT met")
            if met2 is not None:
                verdict += f"; again {measured2} {'met' if met2 else 'NOT met'}"
            lines.append(f"  {name:<{NAME_W}} {measured:>{COL_W}}  {verdict}")
    return lines
