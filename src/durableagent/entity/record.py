"""``SessionRecord``: what a session entity persists as its Durable state.

Why a separate record: the entity state is rewritten on every batch, so it must stay small and
its size must not grow with the conversation. It holds counters, the last reply, and a bounded
ledger of recent requests (for idempotent retries and for waiters to find their result); the
transcript itself lives in the ConversationStore, keyed by ``incarnation`` and turn number.

Ledger entries: ``{"fp": fingerprint, "status": http status, "turn"?: n, "retryable"?: true,
"nonce"?: str, "reply"?: RunResult, "problem"?: problem record}`` (absent keys read as None or
false). A final entry (not retryable) answers every later request with the same id; a retryable
one (transient upstream failures, a failed precondition) is only the answer for the HTTP request
whose ``nonce`` it carries.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from durableagent.entity.state import UnsupportedStateVersionError, utc_now

RECORD_SCHEMA_VERSION = 2
REQUEST_LEDGER_SIZE = 128
OUTBOX_SIZE = 4  # full replies kept inline for waiters; older ones are rebuilt from the transcript


@dataclass
class SessionRecord:
    agent: str
    session: str
    incarnation: str
    turns: int = 0
    last_response: str | None = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def new(agent: str, session: str, first_request: str | None = None) -> SessionRecord:
        """A session's first record; its incarnation keys the transcript until the next reset.

        Derived from the request that starts the session when there is one, so that a redelivery
        of that first turn after a crash finds the turn it already wrote (the journal) under the
        same incarnation instead of running the model again.
        """
        if first_request is None:
            return SessionRecord(agent=agent, session=session, incarnation=secrets.token_hex(8))
        seed = f"{agent}\n{session}\n{first_request}".encode()
        return SessionRecord(agent=agent, session=session, incarnation=hashlib.sha256(seed).hexdigest()[:16])

    @property
    def etag(self) -> str:
        """Strong ETag of the conversation: changes with every committed turn and every reset."""
        return f'"{self.incarnation}.{self.turns}"'

    def remember(self, request_id: str, entry: dict[str, Any]) -> None:
        """Record a request's outcome; keep the ledger and its full replies bounded."""
        self.requests.pop(request_id, None)
        self.requests[request_id] = entry
        while len(self.requests) > REQUEST_LEDGER_SIZE:
            del self.requests[next(iter(self.requests))]
        for old_id in list(self.requests)[:-OUTBOX_SIZE]:
            self.requests[old_id].pop("reply", None)
        self.updated_at = utc_now()

    def to_state(self) -> dict[str, Any]:
        return {
            "schema_version": RECORD_SCHEMA_VERSION,
            "agent": self.agent,
            "session": self.session,
            "incarnation": self.incarnation,
            "turns": self.turns,
            "last_response": self.last_response,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "requests": self.requests,
        }

    @staticmethod
    def from_state(state: Mapping[str, Any]) -> SessionRecord:
        """Read a version-2 record; raises for unknown versions (version-less state is legacy)."""
        version = state.get("schema_version")
        if version != RECORD_SCHEMA_VERSION:
            raise UnsupportedStateVersionError(version)
        return SessionRecord(
            agent=str(state["agent"]),
            session=str(state["session"]),
            incarnation=str(state["incarnation"]),
            turns=int(state.get("turns", 0)),
            last_response=state.get("last_response"),
            created_at=str(state.get("created_at") or utc_now()),
            updated_at=str(state.get("updated_at") or utc_now()),
            requests=dict(state.get("requests") or {}),
        )


def is_legacy_state(state: Mapping[str, Any]) -> bool:
    """Version-less state in the 0.0.2b1 shape (its whole conversation inside the entity)."""
    return "schema_version" not in state and "schemaVersion" not in state and "conversation_history" in state


def ledger_answer(entry: Mapping[str, Any] | None, fingerprint: str, nonce: str) -> str:
    """How a waiter reads a ledger entry: ``"wait"``, ``"mismatch"`` (422) or ``"final"``."""
    if entry is None:
        return "wait"
    if entry.get("fp") != fingerprint:
        return "mismatch"
    if entry.get("retryable") and entry.get("nonce") != nonce:
        return "wait"
    return "final"
