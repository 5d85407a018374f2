"""Admission control for the entity mailboxes: bounded queues per session and per host.

Why: without a bound, a client can queue thousands of ``respond-async`` turns; each is accepted
with 202, and a turn on a fresh session then waits behind all of them. A serious server refuses
work it cannot do soon and says when to come back. The engine counts the operations queued in
each mailbox (committed, not yet run); a route's signal through the in-process client is admitted
only while its entity has fewer than ``per_entity`` and the host fewer than ``per_host`` queued.
Beyond either, the signal is refused with ``429 too-many-turns`` and a ``Retry-After`` estimated
from the rate at which this host has been finishing operations.

Only the app's route signals are bounded (``InProcessEntities.signal``). Operations that
orchestrations send, and signals over the Durable HTTP API, are counted but never refused: the
Durable extension accepts them unconditionally (its queues are unbounded), and an orchestration
cannot take a 429.
"""

from __future__ import annotations

import math
import time

from durableagent.contract.problems import TooManyTurns

DEFAULT_PER_ENTITY = 128
DEFAULT_PER_HOST = 10_000
_RATE_HALF_LIFE_S = 5.0  # how fast the finishing-rate estimate forgets
_MAX_RETRY_AFTER_S = 60


class Backlog:
    """Queued-operation counts per entity and in total, with the host's recent finishing rate."""

    def __init__(self, per_entity: int = DEFAULT_PER_ENTITY, per_host: int = DEFAULT_PER_HOST) -> None:
        """Refuse beyond ``per_entity`` queued operations on one entity or ``per_host`` in all."""
        if per_entity < 1 or per_host < 1:
            raise ValueError("backlog bounds must be >= 1")
        self.per_entity = per_entity
        self.per_host = per_host
        self.total = 0
        self._queued: dict[str, int] = {}  # only entities with queued operations
        self._rate = 0.0  # operations finished per second (exponentially weighted)
        self._rate_at = time.monotonic()

    def queued(self, entity: str) -> int:
        """Operations queued for ``entity`` (committed to its mailbox, not yet run)."""
        return self._queued.get(entity, 0)

    def load(self, counts: dict[str, int]) -> None:
        """Start from the mailbox counts found in the store (after a restart)."""
        self._queued = {e: n for e, n in counts.items() if n > 0}
        self.total = sum(self._queued.values())

    def admit(self, entity: str) -> None:
        """Raise :class:`TooManyTurns` when one more operation for ``entity`` would exceed a bound."""
        queued = self.queued(entity)
        if queued >= self.per_entity:
            raise TooManyTurns(
                f"This session already has {queued} turns queued; retry after Retry-After seconds.",
                retry_after=self._retry_after(queued - self.per_entity + 1),
            )
        if self.total >= self.per_host:
            raise TooManyTurns(
                "The host has as many turns queued as it accepts; retry after Retry-After seconds.",
                retry_after=self._retry_after(self.total - self.per_host + 1),
            )

    def added(self, entity: str) -> None:
        """One operation for ``entity`` was committed to its mailbox."""
        self._queued[entity] = self._queued.get(entity, 0) + 1
        self.total += 1

    def removed(self, entity: str, count: int) -> None:
        """``count`` operations of ``entity`` ran (their batch committed)."""
        left = self._queued.get(entity, 0) - count
        if left > 0:
            self._queued[entity] = left
        else:
            self._queued.pop(entity, None)
        self.total = max(0, self.total - count)
        self._observe(count)

    def _observe(self, count: int) -> None:
        now = time.monotonic()
        elapsed = max(now - self._rate_at, 1e-3)
        weight = math.exp(-elapsed / _RATE_HALF_LIFE_S)
        self._rate = weight * self._rate + (1 - weight) * (count / elapsed)
        self._rate_at = now

    def _retry_after(self, excess: int) -> int:
        """Seconds until ``excess`` operations will likely have finished (1..60)."""
        if self._rate <= 0:
            return 1
        return max(1, min(_MAX_RETRY_AFTER_S, math.ceil(excess / self._rate)))
