"""The model's context under a window, a token budget and a reducer; the cached history is untouched."""

from __future__ import annotations

import pytest
from agent_framework import Message, SlidingWindowStrategy

from durableagent.entity.agent_call import ContextPolicy, model_context
from durableagent.entity.history import SessionHistory

from .conftest import run


def _history(turns: int, text: str = "abcd" * 5) -> SessionHistory:
    history = SessionHistory()
    for n in range(1, turns + 1):
        history.add_turn(
            [Message(role="user", contents=[f"u{n}"]), Message(role="assistant", contents=[text])]
        )
    return history


def _users(messages: object) -> list[str]:
    return [m.text for m in messages if m.role == "user"]  # type: ignore[attr-defined]


def test_a_window_keeps_the_last_turns_whole() -> None:
    history = _history(10)
    assert _users(run(model_context(history, ContextPolicy(window=3)))) == ["u8", "u9", "u10"]
    assert run(model_context(history, ContextPolicy())) is history
    assert run(model_context(history, ContextPolicy(window=50))) is history


def test_a_token_budget_keeps_the_newest_turns_that_fit() -> None:
    history = _history(10)  # each turn: 1 + 5 estimated tokens
    assert _users(run(model_context(history, ContextPolicy(token_budget=18)))) == ["u8", "u9", "u10"]
    assert _users(run(model_context(history, ContextPolicy(token_budget=5)))) == []
    assert _users(run(model_context(history, ContextPolicy(window=2, token_budget=18)))) == ["u9", "u10"]


def test_a_failed_turn_counts_as_a_turn_of_no_messages() -> None:
    history = _history(3)
    history.add_turn([])
    assert _users(run(model_context(history, ContextPolicy(window=2)))) == ["u3"]


def test_a_compaction_strategy_runs_on_a_copy() -> None:
    history = _history(6)
    before = [m.to_dict() for m in history]
    reduced = run(model_context(history, ContextPolicy(reducer=SlidingWindowStrategy(keep_last_groups=2))))
    assert _users(reduced) == ["u6"]
    assert [m.to_dict() for m in history] == before


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_windows_and_budgets_must_be_positive_ints(bad: object) -> None:
    with pytest.raises(ValueError, match="positive int"):
        ContextPolicy(window=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive int"):
        ContextPolicy(token_budget=bad)  # type: ignore[arg-type]
