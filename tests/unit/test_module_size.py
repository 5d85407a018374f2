"""The design rule on module size: every source module of durableagent stays at or under 300 lines."""

from __future__ import annotations

from pathlib import Path

LIMIT = 300
SOURCES = Path(__file__).resolve().parents[2] / "src" / "durableagent"


def test_every_source_module_is_at_most_300_lines() -> None:
    sizes = {
        path.relative_to(SOURCES).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in SOURCES.rglob("*.py")
    }
    assert len(sizes) > 100, "the source tree was not found"
    too_long = {name: lines for name, lines in sorted(sizes.items()) if lines > LIMIT}
    assert not too_long, f"modules over {LIMIT} lines (split them by concept): {too_long}"
