"""Options of an ``AgentFunctionApp`` (everything a deployment may want to tune, with safe defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

MAX_WAIT_SECONDS = 200.0  # under the 230 s limit of Azure's front end for HTTP functions
DEFAULT_SESSION_TTL = timedelta(days=14)  # the .NET durable agents host's default idle expiry
DEFAULT_SWEEP_SCHEDULE = "0 */5 * * * *"  # NCRONTAB: every five minutes


@dataclass(frozen=True)
class AppOptions:
    """Tunable behaviour of the app's routes and entities.

    Attributes:
        wait_timeout: How long ``POST /run`` waits for the reply before answering 202 + Location
            (seconds; capped at 200 s, below Azure's 230 s HTTP limit). Clients may ask for less
            with ``Prefer: wait=N`` or none with ``Prefer: respond-async``.
        allowed_roles: Roles a caller may send; ``system`` only when the app opts in.
        max_attempts: Deliveries of one turn before it is recorded as poisoned (a turn that keeps
            crashing the worker).
        model_timeout: Seconds one agent run may take before the turn fails with 504.
        transient_retries: Retries of a 503-like model failure inside one turn (with backoff).
        max_body_bytes: Largest ``POST /run`` body accepted (413 beyond).
        history_cache_bytes: Memory (approximate) for the per-process cache of recent sessions'
            histories; a session not in it is read back from the conversation store.
        session_ttl: How long a session may stay idle (no turn) before it is deleted, entity and
            transcript; agents may override it (``add_agent(..., session_ttl=...)``); ``None``
            keeps sessions for ever.
        expiry_sweep_schedule: NCRONTAB schedule (or ``%SETTING%``) of the timer function that
            deletes expired sessions; an expired session may live until the next sweep.
        max_reply_bytes: Largest turn (reply and tool results, as stored JSON, UTF-8) the
            transcript accepts; a larger one fails with ``reply-too-large`` (413), nothing stored.
        stream_retention: Seconds a streamed turn's event log is kept after the turn ended (a
            stream attached later is rebuilt from the transcript: the reply in one message).
    """

    wait_timeout: float = 30.0
    allowed_roles: tuple[str, ...] = ("user",)
    max_attempts: int = 3
    model_timeout: float = 120.0
    transient_retries: int = 2
    max_body_bytes: int = 64 * 1024
    history_cache_bytes: int = 64 * 1024 * 1024
    session_ttl: timedelta | None = DEFAULT_SESSION_TTL
    expiry_sweep_schedule: str = DEFAULT_SWEEP_SCHEDULE
    max_reply_bytes: int = 16 * 1024 * 1024
    stream_retention: float = 600.0

    def __post_init__(self) -> None:
        """Raise ValueError for an option out of bounds.

        The bounds: ``wait_timeout`` 0..200 s; ``allowed_roles`` ``user``, optionally with ``system``;
        ``max_attempts`` at least 1.
        """
        if not 0 <= self.wait_timeout <= MAX_WAIT_SECONDS:
            raise ValueError(f"wait_timeout must be between 0 and {MAX_WAIT_SECONDS} seconds")
        unknown = set(self.allowed_roles) - {"user", "system"}
        if unknown or "user" not in self.allowed_roles:
            raise ValueError("allowed_roles must contain 'user' and may add 'system'")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        check_ttl(self.session_ttl)
        if not self.expiry_sweep_schedule.strip():
            raise ValueError("expiry_sweep_schedule must be an NCRONTAB expression or %SETTING%")
        if self.max_reply_bytes < 1024:
            raise ValueError("max_reply_bytes must be at least 1024")


def check_ttl(ttl: timedelta | None) -> None:
    """Raise ValueError unless ``ttl`` is None or a positive ``timedelta``."""
    if ttl is not None and (not isinstance(ttl, timedelta) or ttl <= timedelta(0)):
        raise ValueError("session_ttl must be a positive timedelta or None")
