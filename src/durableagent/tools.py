"""Idempotency keys for tools with side effects.

Why: a turn interrupted by a crash is delivered again and its agent runs again (at-least-once), so
its tools run again too. durableagent hands every run the turn's identity through Agent
Framework's ``function_invocation_kwargs``; a tool that declares a ``FunctionInvocationContext``
parameter reads it with :func:`turn_of` and derives a key with :func:`idempotency_key`, which it
passes to the service it calls (or checks in its own ledger) so that a second run has no second
effect. The key is stable across redeliveries of the same turn because the turn's correlation id
is (it is the request's ``Idempotency-Key``, or the id the route generated and stored with the
queued operation). The model's ``call_id`` is not part of it: a re-run model may choose new ids.

```python
def send_invoice(order: str, ctx: FunctionInvocationContext) -> str:
    billing.send(order, idempotency_key=idempotency_key(ctx))
```
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TURN_KWARG = "durableagent_turn"
"""The ``function_invocation_kwargs`` entry (a :class:`ToolTurn`) that durableagent passes to every run."""


@dataclass(frozen=True)
class ToolTurn:
    """The turn a tool runs in."""

    agent: str
    session: str
    correlation_id: str


def turn_of(ctx: Any) -> ToolTurn | None:
    """The turn of a tool's ``FunctionInvocationContext``; None outside a durableagent turn."""
    kwargs = getattr(ctx, "kwargs", None)
    turn = kwargs.get(TURN_KWARG) if isinstance(kwargs, Mapping) else None
    return turn if isinstance(turn, ToolTurn) else None


def _arguments(ctx: Any) -> Any:
    arguments = getattr(ctx, "arguments", None)
    dump = getattr(arguments, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return dict(arguments) if isinstance(arguments, Mapping) else None


def idempotency_key(ctx: Any, *parts: str) -> str:
    """A key (64 hex chars) for this tool call: same turn, tool, arguments and ``parts`` → same key.

    Add ``parts`` to tell apart calls of one tool with the same arguments within one turn that
    must each take effect. Raises ``LookupError`` outside a durableagent turn.
    """
    turn = turn_of(ctx)
    if turn is None:
        raise LookupError("idempotency_key() needs the FunctionInvocationContext of a durableagent turn")
    function = getattr(ctx, "function", None)
    material = [
        turn.agent,
        turn.session,
        turn.correlation_id,
        str(getattr(function, "name", "") or ""),
        _arguments(ctx),
        list(parts),
    ]
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
