"""What the model sees of a session: a window over the committed history, and an optional reducer.

Why: a long conversation outgrows the model's context, and a turn whose input is the whole history
costs O(history). An agent registered with ``history_window=N`` (the last N turns) and/or
``history_token_budget=T`` (the newest turns whose estimated tokens fit in T) gets only that part of
the history; the stored transcript and ``GET`` stay whole. The window is cut at turn boundaries
(a turn's tool calls and results stay together) from the indexes ``SessionHistory`` keeps, so
building it costs O(window), not O(history): the turn's cost stays flat as the session grows.

A reducer (``history_reducer=``) runs after the window, on a copy of its messages (the cached
history is never changed). It is Agent Framework's own type for this, a
``agent_framework.CompactionStrategy`` (``SlidingWindowStrategy``, ``TruncationStrategy``,
``TokenBudgetComposedStrategy``, ``SummarizationStrategy``, or any async callable that edits the
list in place and returns whether it changed it), applied with ``agent_framework.apply_compaction``
(agent_framework/_compaction.py: annotate the groups, run the strategy, project the included
messages).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from agent_framework import CompactionStrategy, Message, apply_compaction

from durableagent.entity.history import SessionHistory


@dataclass(frozen=True)
class ContextPolicy:
    """Per agent: how much of the committed history goes into the model's context.

    Attributes:
        window: At most this many of the latest turns (None: every turn).
        token_budget: At most the latest turns whose estimated tokens (4 characters a token) add up
            to this (None: no budget). With both, the smaller part wins.
        reducer: Applied last, to a copy of the chosen messages.
    """

    window: int | None = None
    token_budget: int | None = None
    reducer: CompactionStrategy | None = None

    def __post_init__(self) -> None:
        """Refuse windows and budgets below 1 (``ValueError``); 0 would silently drop all history."""
        for name, value in (("history_window", self.window), ("history_token_budget", self.token_budget)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int or None")

    @property
    def whole(self) -> bool:
        """Whether the model sees the whole history (no window, budget or reducer)."""
        return self.window is None and self.token_budget is None and self.reducer is None


def first_turn_kept(history: SessionHistory, policy: ContextPolicy) -> int:
    """Index (into ``history.starts``) of the oldest turn the policy keeps; walks back O(kept turns)."""
    turns = len(history.starts)
    first = 0 if policy.window is None else max(0, turns - policy.window)
    if policy.token_budget is not None:
        spent, index = 0, turns
        while index > first and spent + history.tokens[index - 1] <= policy.token_budget:
            index -= 1
            spent += history.tokens[index]
        first = index
    return first


def windowed(history: SessionHistory, policy: ContextPolicy) -> SessionHistory:
    """The messages of the kept turns, as a ``SessionHistory`` (same messages, no copies)."""
    first = first_turn_kept(history, policy)
    if first == 0:
        return history
    start = history.starts[first] if first < len(history.starts) else len(history)
    view = SessionHistory(history[start:])
    view.approval_controls = history.approval_controls
    return view


async def model_context(history: SessionHistory, policy: ContextPolicy) -> Sequence[Message]:
    """The history the model gets for the next turn under ``policy``."""
    if policy.whole:
        return history
    view = windowed(history, policy)
    reducer = policy.reducer
    if reducer is None:
        return view
    messages = [copy.deepcopy(m) for m in view]  # compaction annotates messages in place
    return await apply_compaction(messages, strategy=reducer)
