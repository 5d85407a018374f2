"""Check, before the peers run, that their fake model (peer_apps/offline_echo.py) answers exactly
as durableagent's offline model does for the bench's messages, with the same history."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

from bench.load import KB_TEXT

ECHO = Path(__file__).resolve().parent / "peer_apps" / "offline_echo.py"


class ModelMismatch(RuntimeError):
    pass


def _echo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_offline_echo", ECHO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _ours(texts: list[str]) -> list[str]:
    from agent_framework import Message

    from durableagent.offline.model import OfflineChatClient

    client = OfflineChatClient(latency=0)
    history: list[Message] = []
    replies = []
    for text in texts:
        history.append(Message(role="user", contents=[text]))
        response = await client.get_response(list(history))
        replies.append(response.text)
        history.extend(response.messages)
    return replies


def check() -> None:
    """Raise ``ModelMismatch`` unless both models give the same replies to the same conversation."""
    texts = ["hello 0", "hello 1", f"turn 2 {KB_TEXT}", "slow 3", "async 4 5"]
    echo = _echo()
    history: list[dict[str, str]] = []
    theirs = []
    for text in texts:
        reply = echo.reply(history, text)
        theirs.append(reply)
        history += [{"role": "user", "text": text}, {"role": "assistant", "text": reply}]
    ours = asyncio.run(_ours(texts))
    if ours != theirs:
        diff = next(i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b)
        raise ModelMismatch(f"the peers' fake model differs from the offline model at reply {diff + 1}")
