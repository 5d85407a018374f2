"""Progress lines on stderr while the bench runs (the table goes to stdout at the end)."""

from __future__ import annotations

import sys
import time

_STARTED = time.monotonic()


def note(message: str) -> None:
    """``[bench +SECONDS] message`` on stderr."""
    print(f"[bench +{time.monotonic() - _STARTED:.0f}s] {message}", file=sys.stderr, flush=True)
