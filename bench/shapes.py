"""How each benchmarked server takes a turn over HTTP: the paths, bodies and headers of a waiting
turn, an asynchronous submit and its later collection, and the health check.

The workloads (bench/load.py, bench/slow.py) are written once against a ``Shape``; durableagent,
Restate and DBOS each have one, so every server gets the same client, message sizes and load.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

JSON = {"content-type": "application/json"}
Request = tuple[str, str, bytes, dict[str, str]]
"""``(method, path, body, headers)`` for ``RawClient.send``."""


@dataclass(frozen=True)
class Shape:
    """One server's HTTP shape for a turn."""

    name: str
    health_path: str
    turn: Callable[[str, str], Request]
    """``(session, message)``: a turn that answers 200 with the reply once it is done."""
    submit: Callable[[str, str, str], Request]
    """``(session, message, key)``: the same turn, answered 202 at once; ``key`` names it."""
    result: Callable[[str, str], Request]
    """``(session, key)``: the submitted turn's reply (200) or not yet (any other status)."""


def _json(doc: dict[str, str]) -> bytes:
    return json.dumps(doc).encode()


def durableagent_shape(agent: str) -> Shape:
    run = f"/api/agents/{agent}/run"
    return Shape(
        name="durableagent",
        health_path="/api/health",
        turn=lambda s, m: ("POST", run, _json({"message": m, "sessionId": s}), JSON),
        submit=lambda s, m, k: (
            "POST",
            run,
            _json({"message": m, "sessionId": s}),
            {**JSON, "Prefer": "respond-async", "Idempotency-Key": k},
        ),
        result=lambda s, k: ("GET", f"/api/agents/{agent}/{s}/turns/{k}", b"", {}),
    )


DURABLEAGENT = durableagent_shape("WeatherAgent")

RESTATE = Shape(
    name="restate",
    health_path="/restate/health",
    turn=lambda s, m: ("POST", f"/Session/{s}/turn", _json({"message": m}), JSON),
    submit=lambda s, m, k: (
        "POST",
        f"/Session/{s}/turn/send",
        _json({"message": m}),
        {**JSON, "idempotency-key": k},
    ),
    result=lambda s, k: ("GET", f"/restate/invocation/Session/{s}/turn/{k}/output", b"", {}),
)

DBOS = Shape(
    name="dbos",
    health_path="/health",
    turn=lambda s, m: ("POST", f"/sessions/{s}/turn", _json({"message": m}), JSON),
    submit=lambda s, m, k: (
        "POST",
        f"/sessions/{s}/turn/async",
        _json({"message": m}),
        {**JSON, "Idempotency-Key": k},
    ),
    result=lambda s, k: ("GET", f"/turns/{k}", b"", {}),
)


def reply_text(body: bytes) -> str:
    """The model's reply in a turn's JSON answer (all three servers name it ``response``)."""
    doc = json.loads(body)
    return str(doc.get("response", "")) if isinstance(doc, dict) else ""
