"""``AgentSessionId``: a session's name and key, and its Durable entity id.

A session is the Durable Entity ``@<name>@<key>``: ``name`` is the agent's entity name (the agent's
name; the Durable extension lower-cases it) and ``key`` the session key. Keys and names are
restricted to ``[A-Za-z0-9_-]{1,128}`` because ``@``, ``/``, ``\\``, ``#``, ``?`` and control characters
break entity ids, the Durable HTTP API's URLs and Azure Storage keys.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import azure.durable_functions as df

IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,128}")


def is_identifier(value: object) -> bool:
    """True for a valid agent name or session key (full match: no trailing newline sneaks through)."""
    return isinstance(value, str) and IDENTIFIER.fullmatch(value) is not None


def new_session_key() -> str:
    """A server-generated session key: 128 random bits, hex-encoded."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class AgentSessionId:
    """The identity of one conversation session: entity ``name`` and session ``key``."""

    name: str
    key: str

    def __post_init__(self) -> None:
        if not is_identifier(self.name):
            raise ValueError("session name must match [A-Za-z0-9_-]{1,128}")
        if not is_identifier(self.key):
            raise ValueError("session key must match [A-Za-z0-9_-]{1,128}")

    @staticmethod
    def with_random_key(name: str) -> AgentSessionId:
        """A new session of entity ``name`` with a 128-bit random key."""
        return AgentSessionId(name=name, key=new_session_key())

    def to_entity_id(self) -> df.EntityId:
        """The Durable Functions ``EntityId`` of this session."""
        return df.EntityId(self.name, self.key)

    @staticmethod
    def from_entity_id(entity_id: df.EntityId) -> AgentSessionId:
        return AgentSessionId(name=entity_id.name, key=entity_id.key)

    @staticmethod
    def parse(session_id_string: str) -> AgentSessionId:
        """Parse ``@name@key``; raises ``ValueError`` for anything else."""
        if not isinstance(session_id_string, str) or not session_id_string.startswith("@"):
            raise ValueError("expected '@name@key'")
        name, sep, key = session_id_string[1:].partition("@")
        if not sep:
            raise ValueError("expected '@name@key'")
        return AgentSessionId(name=name, key=key)

    def __str__(self) -> str:
        return f"@{self.name}@{self.key}"
