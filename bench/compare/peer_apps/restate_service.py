"""The Restate peer: one virtual object per session, its history in the object's state, the model
call journaled with ``ctx.run_typed`` (scripts/bench --compare; served by hypercorn).

``POST /Session/<session>/turn`` with ``{"message": ...}`` answers ``{"response", "message_count"}``.
"""

from __future__ import annotations

from typing import Any

import restate
from offline_echo import respond

session = restate.VirtualObject("Session")


@session.handler()
async def turn(ctx: restate.ObjectContext, request: dict[str, Any]) -> dict[str, Any]:
    """One turn: read the history, call the model inside ``ctx.run_typed``, store the new history."""
    history: list[dict[str, Any]] = await ctx.get("history", type_hint=list) or []
    message = str(request["message"])
    text = await ctx.run_typed("model", respond, restate.RunOptions(type_hint=str), history, message)
    history.append({"role": "user", "text": message})
    history.append({"role": "assistant", "text": text})
    ctx.set("history", history)
    return {"response": text, "message_count": len(history)}


app = restate.app([session])
