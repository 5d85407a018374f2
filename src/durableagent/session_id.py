r"""Session identities: ``AgentSessionId``, identifier rules, and the one way to spell an entity id.

A session is the Durable Entity ``@<name>@<key>``: ``name`` is the agent's entity name (the agent's
name) and ``key`` the session key. (The Durable extension compares entity names case-insensitively;
its scheduler id lower-cases the name: the local host spells it in ``local.entity_mailbox.entity_id``.)

Keys and names are restricted to ``[A-Za-z0-9_-]{1,128}`` because ``@``, ``/``, ``\``, ``#``, ``?``
and control characters break entity ids, the Durable HTTP API's URLs and Azure Storage keys.

A leaf module: nothing here imports the Durable SDK at import time (the local host and the
conversation stores use it too).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import azure.durable_functions as df

IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""Agent names and session keys (openapi.yaml's AgentName and SessionId; a test keeps them equal)."""


def is_identifier(value: object) -> bool:
    """Whether ``value`` is a valid agent name or session key (full match, no trailing newline)."""
    return isinstance(value, str) and IDENTIFIER.fullmatch(value) is not None


def new_session_key() -> str:
    """Return a server-generated session key: 128 random bits, hex-encoded."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class AgentSessionId:
    """The identity of one conversation session: entity ``name`` and session ``key``."""

    name: str
    key: str

    def __post_init__(self) -> None:
        """Validate both parts (``[A-Za-z0-9_-]{1,128}``)."""
        if not is_identifier(self.name):
            raise ValueError("session name must match [A-Za-z0-9_-]{1,128}")
        if not is_identifier(self.key):
            raise ValueError("session key must match [A-Za-z0-9_-]{1,128}")

    @staticmethod
    def with_random_key(name: str) -> AgentSessionId:
        """Return a new session of entity ``name`` with a 128-bit random key."""
        return AgentSessionId(name=name, key=new_session_key())

    def to_entity_id(self) -> df.EntityId:
        """Return the Durable Functions ``EntityId`` of this session."""
        import azure.durable_functions as df

        return df.EntityId(self.name, self.key)

    @staticmethod
    def from_entity_id(entity: df.EntityId) -> AgentSessionId:
        """Return the session of a Durable Functions ``EntityId``."""
        return AgentSessionId(name=entity.name, key=entity.key)

    @staticmethod
    def parse(session_id_string: str) -> AgentSessionId:
        """Parse ``@name@key``.

        Raises:
            ValueError: the string is not ``@name@key`` with valid parts.
        """
        if not isinstance(session_id_string, str) or not session_id_string.startswith("@"):
            raise ValueError("expected '@name@key'")
        name, sep, key = session_id_string[1:].partition("@")
        if not sep:
            raise ValueError("expected '@name@key'")
        return AgentSessionId(name=name, key=key)

    def __str__(self) -> str:
        """Return ``@name@key``, the name's case kept (the host's mailbox id lower-cases it)."""
        return f"@{self.name}@{self.key}"
