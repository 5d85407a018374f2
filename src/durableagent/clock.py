"""The one clock format: ISO 8601 UTC timestamps with milliseconds and a ``Z`` suffix.

Transcripts, entity records, the local host's tables and the HTTP API all write timestamps in this
form, so they sort and compare as strings. A leaf module: anything may import it.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> str:
    """Return the current time as ISO 8601 UTC with milliseconds (``2026-12-02T06:42:56.123Z``)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
