"""The streaming bench's app: one agent whose model stamps every chunk with the time it emitted it.

The model (``StampingChatClient``) streams ``CHUNKS`` chunks (the ``STREAM_BENCH_CHUNKS`` setting, a
count in the message like ``chunks=500`` wins) ``STREAM_BENCH_DELAY_MS`` apart; each chunk's text is
``time.time_ns()`` at the moment it is yielded plus a space, so a client on the same machine
computes chunk-to-client latency from the delta it receives (scripts/bench_streaming.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from agent_framework import Agent, ChatResponse, ChatResponseUpdate, Content, Message, ResponseStream

from durableagent import AgentFunctionApp
from durableagent.offline.model import OfflineChatClient

CHUNKS = int(os.environ.get("STREAM_BENCH_CHUNKS", "50"))
DELAY = float(os.environ.get("STREAM_BENCH_DELAY_MS", "10")) / 1000.0


class StampingChatClient(OfflineChatClient):
    """The offline model, streaming time stamps instead of words."""

    def _inner_get_response(
        self, *, messages: Sequence[Message], stream: bool, options: Mapping[str, Any], **kwargs: Any
    ) -> Any:
        if stream:
            return ResponseStream(self._stamps(messages), finalizer=ChatResponse.from_updates)
        return super()._inner_get_response(messages=messages, stream=stream, options=options, **kwargs)

    async def _stamps(self, messages: Sequence[Message]) -> AsyncIterator[ChatResponseUpdate]:
        text = messages[-1].text if messages else ""
        asked = re.search(r"chunks=(\d+)", text)
        count = int(asked.group(1)) if asked else CHUNKS
        paced = re.search(r"delay_ms=(\d+)", text)
        delay = int(paced.group(1)) / 1000.0 if paced else DELAY
        for i in range(count):
            if i and delay > 0:
                await asyncio.sleep(delay)
            yield ChatResponseUpdate(role="assistant", contents=[Content.from_text(f"{time.time_ns()} ")])


app = AgentFunctionApp(agents=[Agent(StampingChatClient(), name="Bench", instructions="Stamp.")])
