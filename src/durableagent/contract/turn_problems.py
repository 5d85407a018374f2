"""The problems of turn control (issue 14.5, 14.6, 11.2); part of the catalogue, re-exported by ``problems``.

Kept in their own module so the catalogue stays small: a cancelled turn, a cancel that came after
the turn finished, a busy session under ``multitask_strategy=reject``, a turn a reset discarded.
"""

from __future__ import annotations

from .problem_base import Problem


class TurnCancelled(Problem):
    """409: the turn was cancelled (``POST .../cancel``, or interrupted by a newer run) before it finished."""

    status, slug, title = 409, "turn-cancelled", "The turn was cancelled"


class TurnFinished(Problem):
    """409: a cancel came after the turn finished; ``outcome`` is its status, the turn is unchanged."""

    status, slug, title = 409, "turn-finished", "The turn already finished"


class SessionBusy(Problem):
    """409 + ``Retry-After``: ``multitask_strategy=reject`` while another turn is queued or running."""

    status, slug, title = 409, "session-busy", "Another turn of this session is queued or running"


class TurnDiscarded(Problem):
    """410: the session was reset (``DELETE``) after the turn was accepted; the turn is gone."""

    status, slug, title = 410, "turn-discarded", "The session was reset; this turn was discarded"
