"""A small Server-Sent Events reader over httpx (the tests' and bench's view of a stream).

It parses exactly what the SSE spec defines (``id:``, ``data:``, ``retry:``, comments, blank-line
dispatch), so the tests check the frames a browser's ``EventSource`` would see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event: its id and its JSON data."""

    id: int | None
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("type"))


def events(response: httpx.Response) -> Iterator[SseEvent]:
    """The events of a streaming response, as they arrive."""
    event_id: int | None = None
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield SseEvent(event_id, json.loads("\n".join(data)))
            event_id, data = None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                event_id = int(value)
            elif name == "data":
                data.append(value)


def text_of(stream: list[SseEvent]) -> str:
    """The text of a stream's messages, leaving out the ones a restart discarded."""
    discarded: set[str] = set()
    for e in stream:
        if e.type == "CUSTOM" and e.data.get("name") == "durableagent.turn_restarted":
            discarded.update(e.data["value"]["discardMessageIds"])
    return "".join(
        e.data["delta"]
        for e in stream
        if e.type == "TEXT_MESSAGE_CONTENT" and e.data["messageId"] not in discarded
    )
