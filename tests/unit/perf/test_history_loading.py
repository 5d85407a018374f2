"""DurableHistoryProvider.before_run: the one-pass load gives the agent exactly what the framework's
own HistoryProvider.before_run would, and falls back to it when approvals are in the history."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agent_framework import AgentSession, Content, HistoryProvider, Message, SessionContext

from durableagent.entity.history import (
    SOURCE_ID,
    STATE_HISTORY,
    DurableHistoryProvider,
    HistoryMessage,
    SessionHistory,
)


def _messages() -> list[Message]:
    call = Content.from_function_call(call_id="c1", name="get_weather", arguments={"location": "Oslo"})
    return [
        Message(role="user", contents=["weather in Oslo?"], message_id="u1"),
        Message(
            role="assistant", contents=[call], author_name="WeatherAgent", additional_properties={"k": [1]}
        ),
        Message(role="tool", contents=[Content.from_function_result(call_id="c1", result="sunny")]),
        Message(role="assistant", contents=["It is sunny."]),
    ]


def _load(history: Any, *, framework: bool) -> tuple[list[Message], dict[str, Any]]:
    provider = DurableHistoryProvider()
    context = SessionContext(session_id="s", input_messages=[Message(role="user", contents=["next"])])
    state: dict[str, Any] = {STATE_HISTORY: history}
    session = AgentSession(session_id="s")
    method = HistoryProvider.before_run if framework else DurableHistoryProvider.before_run
    asyncio.run(method(provider, agent=None, session=session, context=context, state=state))  # type: ignore[arg-type]
    return context.context_messages[SOURCE_ID], state


def _history(messages: list[Message]) -> SessionHistory:
    history = SessionHistory()
    history.add(messages)
    return history


def test_one_pass_load_equals_the_frameworks_load() -> None:
    history = _history(_messages())
    before = [m.to_dict() for m in history]
    ours, _ = _load(history, framework=False)
    theirs, _ = _load(history, framework=True)
    assert [m.to_dict() for m in ours] == [m.to_dict() for m in theirs]
    assert [type(m) for m in ours] == [type(m) for m in theirs] == [HistoryMessage] * 4
    assert ours[0].additional_properties["_attribution"] == {
        "source_id": SOURCE_ID,
        "source_type": "DurableHistoryProvider",
    }
    # the originals are untouched, and every copy owns its mutable property dicts
    assert [m.to_dict() for m in history] == before
    assert all(c is not m for c, m in zip(ours, history, strict=True))
    assert all(
        c.additional_properties is not m.additional_properties for c, m in zip(ours, history, strict=True)
    )
    assert len({id(c.additional_properties["_attribution"]) for c in ours}) == len(ours)
    ours[1].additional_properties["k"] = "changed"
    ours[1].author_name = "someone"
    assert history[1].additional_properties == {"k": [1]}
    assert history[1].author_name == "WeatherAgent"


def test_a_session_that_used_approvals_takes_the_frameworks_path() -> None:
    call = Content.from_function_call(
        call_id="c9",
        name="get_weather",
        arguments={},
    )
    call.id = "c9"
    request = Content.from_function_approval_request(id="c9", function_call=call)
    response = Content.from_function_approval_response(approved=True, id="c9", function_call=call)
    messages = [
        *_messages(),
        Message(role="assistant", contents=[request]),
        Message(role="user", contents=[response]),
        Message(role="assistant", contents=["done"]),
    ]
    history = _history(messages)
    assert history.approval_controls
    assert not _history(_messages()).approval_controls
    ours, _ = _load(history, framework=False)
    theirs, _ = _load(history, framework=True)
    assert [m.to_dict() for m in ours] == [m.to_dict() for m in theirs]
    assert len(ours) < len(messages)  # the framework dropped the resolved approval controls


@pytest.mark.parametrize("kind", ["plain-list", "attributed"])
def test_anything_unusual_takes_the_frameworks_path(kind: str) -> None:
    messages = _messages()
    if kind == "attributed":
        messages[0].additional_properties["_attribution"] = {
            "source_id": "memory",
            "origin_session_ids": ["x"],
        }
        history: Any = _history(messages)
    else:
        history = [HistoryMessage.adopt(m) for m in messages]
    ours, _ = _load(history, framework=False)
    theirs, _ = _load(history, framework=True)
    assert [m.to_dict() for m in ours] == [m.to_dict() for m in theirs]
