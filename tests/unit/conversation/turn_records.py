"""Turn records for the conversation store tests."""

from __future__ import annotations

from typing import Any

from durableagent.conversation import TurnRecord


def record(turn: int, text: str = "hello", request_id: str | None = None, **extra: Any) -> TurnRecord:
    fields: dict[str, Any] = {
        "turn": turn,
        "request_id": request_id or f"req-{turn}",
        "role": "user",
        "user": {"type": "message", "role": "user", "contents": [{"type": "text", "text": text}]},
        "reply": {"messages": [{"role": "assistant", "contents": [{"type": "text", "text": f"re: {text}"}]}]},
        "value": None,
        "error": None,
        "started_at": "2025-01-01T00:00:00Z",
        "completed_at": "2025-01-01T00:00:01Z",
    }
    fields.update(extra)
    return TurnRecord(**fields)
