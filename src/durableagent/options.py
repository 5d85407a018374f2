"""Options of an ``AgentFunctionApp`` (everything a deployment may want to tune, with safe defaults)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_WAIT_SECONDS = 200.0  # under the 230 s limit of Azure's front end for HTTP functions


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
