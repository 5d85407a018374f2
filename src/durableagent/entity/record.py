"""``SessionRecord``: what a session entity persists as its Durable state, and its request ledger.

Why a separate record: the entity state is rewritten on every batch, so it must stay small and
its size must not grow with the conversation. It holds counters, the last reply, and a bounded
ledger of recent requests (for idempotent retries and for waiters to find their result); the
transcript itself lives in the ConversationStore, keyed by ``incarnation`` and turn number.

The ledger maps a request id to a :class:`LedgerEntry`. A final entry (not retryable) answers every
later request with the same id; a retryable one (transient upstream failures, a failed
precondition) is only the answer for the HTTP request whose ``nonce`` it carries. Entries are kept
in their compact JSON form inside the state (absent keys read as None or false) and parsed one at
a time, when a reader asks for one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from durableagent_models import RunResult

from durableagent.contract.problems import Problem, ProblemRecord, UnsupportedStateVersion, from_record
from durableagent.conversation.base import utc_now

RECORD_SCHEMA_VERSION = 2
REQUEST_LEDGER_SIZE = 128
OUTBOX_SIZE = 4  # full replies kept inline for waiters; older ones are rebuilt from the transcript
INLINE_TEXT_LIMIT = 32 * 1024
"""Characters of a reply (or of ``last_response``) the state keeps inline; a larger one is read from
the transcript instead, so the entity state stays small whatever the reply's size (the Durable
backends' entity state limits; Azure Storage moves payloads above 45 KB to blobs)."""

Verdict = Literal["wait", "mismatch", "final"]


class UnsupportedStateVersionError(ValueError):
    """Stored state has a schema version this release does not know; it is left untouched."""

    def __init__(self, version: object) -> None:
        """Name the unknown ``version`` in the message."""
        super().__init__(f"unsupported state schema_version {version!r}; this release reads versions 1 and 2")
        self.version = version


@dataclass(frozen=True)
class LedgerEntry:
    """The outcome of one request: its HTTP status and either the reply or the problem."""

    fingerprint: str
    status: int
    turn: int | None = None
    retryable: bool = False
    nonce: str | None = None  # only on retryable entries: the HTTP request they answer
    reply: RunResult | None = None  # the 200 body, while the entry is in the outbox
    problem: ProblemRecord | None = None

    @property
    def succeeded(self) -> bool:
        """Whether the request ended in a 200 reply."""
        return self.status == 200

    def problem_instance(self) -> Problem:
        """The entry's problem, rebuilt (a record without one is a plain problem of its status)."""
        return from_record(self.problem or {"status": self.status})

    def verdict(self, fingerprint: str, nonce: str) -> Verdict:
        """How a waiter holding ``(fingerprint, nonce)`` reads this entry."""
        if self.fingerprint != fingerprint:
            return "mismatch"
        if self.retryable and self.nonce != nonce:
            return "wait"
        return "final"

    def to_json(self) -> dict[str, Any]:
        """The compact JSON form kept in the entity state."""
        data: dict[str, Any] = {"fp": self.fingerprint, "status": self.status}
        if self.turn is not None:
            data["turn"] = self.turn
        if self.retryable:
            data["retryable"] = True
            data["nonce"] = self.nonce
        if self.reply is not None:
            data["reply"] = self.reply.model_dump(mode="json")
        if self.problem is not None:
            data["problem"] = dict(self.problem)
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> LedgerEntry:
        """Parse :meth:`to_json` output."""
        turn = data.get("turn")
        reply = data.get("reply")
        problem = data.get("problem")
        return LedgerEntry(
            fingerprint=str(data.get("fp", "")),
            status=int(data.get("status", 500)),
            turn=turn if isinstance(turn, int) else None,
            retryable=bool(data.get("retryable")),
            nonce=data.get("nonce"),
            reply=RunResult.model_validate(reply) if isinstance(reply, Mapping) else None,
            problem=ProblemRecord(**problem) if isinstance(problem, Mapping) else None,  # type: ignore[typeddict-item]
        )


@dataclass
class SessionRecord:
    """The entity state of one session (schema version 2)."""

    agent: str
    session: str
    incarnation: str
    turns: int = 0
    last_response: str | None = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # request id -> LedgerEntry JSON

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

    def entry(self, request_id: str) -> LedgerEntry | None:
        """The ledger entry of ``request_id``, if the ledger still holds it."""
        data = self.requests.get(request_id)
        return LedgerEntry.from_json(data) if data is not None else None

    def last_request(self) -> tuple[str, LedgerEntry] | None:
        """The most recently answered request and its entry."""
        request_id = next(reversed(self.requests), None)
        if request_id is None:
            return None
        return request_id, LedgerEntry.from_json(self.requests[request_id])

    def remember(self, request_id: str, entry: LedgerEntry) -> None:
        """Record a request's outcome; keep the ledger and its full replies bounded."""
        self.requests = dict(self.requests)
        self.requests.pop(request_id, None)
        data = entry.to_json()
        if entry.reply is not None and _too_long(entry.reply.response):
            del data["reply"]  # rebuilt from the transcript (http/run.py stored_reply)
        self.requests[request_id] = data
        while len(self.requests) > REQUEST_LEDGER_SIZE:
            del self.requests[next(iter(self.requests))]
        for old_id in list(self.requests)[:-OUTBOX_SIZE]:
            if "reply" in self.requests[old_id]:
                self.requests[old_id] = {k: v for k, v in self.requests[old_id].items() if k != "reply"}
        self.updated_at = utc_now()

    def to_state(self) -> dict[str, Any]:
        """The JSON state the entity stores."""
        return {
            "schema_version": RECORD_SCHEMA_VERSION,
            "agent": self.agent,
            "session": self.session,
            "incarnation": self.incarnation,
            "turns": self.turns,
            "last_response": None if _too_long(self.last_response) else self.last_response,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "requests": self.requests,
        }

    @staticmethod
    def from_state(state: Mapping[str, Any]) -> SessionRecord:
        """Read a version-2 record.

        Raises:
            UnsupportedStateVersionError: any other version (version-less state is legacy:
                ``entity.legacy.is_legacy_state``).
        """
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


def _too_long(value: Any) -> bool:
    return isinstance(value, str) and len(value) > INLINE_TEXT_LIMIT


def is_legacy_state(state: Mapping[str, Any]) -> bool:
    """Version-less state in the 0.0.2b1 shape: the whole conversation in the entity (``entity.legacy``)."""
    return "schema_version" not in state and "schemaVersion" not in state and "conversation_history" in state


def record_of(state: Mapping[str, Any] | None) -> SessionRecord | None:
    """The record in a committed entity state; None when there is none or it is still in the 0.0.2b1 shape.

    Raises:
        UnsupportedStateVersion: the state was written by an unknown version (500; left untouched).
    """
    if state is None or is_legacy_state(state):
        return None
    try:
        return SessionRecord.from_state(state)
    except UnsupportedStateVersionError:
        raise UnsupportedStateVersion(
            "This session was written by an unknown version of durableagent; it was left untouched."
        ) from None
