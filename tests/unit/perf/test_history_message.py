"""HistoryMessage: a cheap shallow copy, and nothing else that differs from a plain Message."""

from __future__ import annotations

import copy
import pickle

from agent_framework import AgentResponse, Content, Message

from durableagent.conversation import TurnRecord
from durableagent.entity.history import HistoryCache, HistoryMessage, SessionHistory, _Entry, turn_messages
from durableagent.offline.model import _usage


def _plain() -> Message:
    return Message(
        role="assistant",
        contents=[
            "It is sunny.",
            Content.from_function_call(call_id="c1", name="get_weather", arguments={"location": "Oslo"}),
        ],
        author_name="WeatherAgent",
        message_id="m1",
        additional_properties={"k": [1, 2]},
    )


def test_same_dict_json_and_type_checks_as_a_plain_message() -> None:
    plain = _plain()
    adopted = HistoryMessage.adopt(plain)
    assert type(adopted) is HistoryMessage
    assert isinstance(adopted, Message)
    assert adopted.to_dict() == plain.to_dict()
    assert adopted.to_json() == plain.to_json()
    assert adopted.to_dict()["type"] == "message"
    assert Message.from_dict(adopted.to_dict()).to_dict() == plain.to_dict()
    assert adopted.text == plain.text


def test_copy_is_the_generic_shallow_copy() -> None:
    adopted = HistoryMessage.adopt(_plain())
    fast, generic = copy.copy(adopted), Message.__copy__(adopted)
    assert type(fast) is HistoryMessage
    assert fast is not adopted
    assert fast.__dict__ == generic.__dict__
    assert fast.contents is adopted.contents  # shallow, like the generic copy
    fast.additional_properties = {"changed": True}  # what the framework does to its copies
    assert adopted.additional_properties == {"k": [1, 2]}
    assert copy.deepcopy(adopted).to_dict() == adopted.to_dict()
    assert pickle.loads(pickle.dumps(adopted)).to_dict() == adopted.to_dict()  # noqa: S301 - our own bytes


def test_adopt_leaves_other_messages_alone() -> None:
    class Custom(Message):
        pass

    custom = Custom(role="user", contents=["x"])
    assert HistoryMessage.adopt(custom) is custom
    adopted = HistoryMessage.adopt(_plain())
    assert HistoryMessage.adopt(adopted) is adopted


def test_history_from_the_store_and_the_cache_is_made_of_history_messages() -> None:
    reply = AgentResponse(messages=[_plain()]).to_dict()
    record = TurnRecord(
        turn=1,
        request_id="r1",
        role="user",
        user=Message(role="user", contents=["hi"]).to_dict(),
        reply=reply,
        value=None,
        error=None,
        started_at="2025-01-01T00:00:00Z",
        completed_at="2025-01-01T00:00:01Z",
    )
    messages = SessionHistory()
    messages.add(turn_messages(record))
    assert [type(m) for m in messages] == [HistoryMessage, HistoryMessage]
    assert [m.to_dict() for m in messages] == [record.user, *reply["messages"]]


def test_cache_advance_adopts_the_new_messages() -> None:
    from durableagent.conversation import SessionRef

    cache = HistoryCache()
    ref = SessionRef("Agent", "s", "inc")
    cache._put(ref, _Entry(0))
    cache.advance(ref, 1, [Message(role="user", contents=["hi"]), _plain()])
    assert all(type(m) is HistoryMessage for m in cache._entries[ref].messages)


def test_offline_usage_counts_words_like_the_joined_text() -> None:
    messages = [
        Message(role="user", contents=["a b  c", " d", "", "e\nf"]),
        Message(role="assistant", contents=[Content.from_function_call(call_id="x", name="f", arguments={})]),
        Message(role="tool", contents=[Content.from_function_result(call_id="x", result="r s")]),
        _plain(),
    ]
    expected = sum(len((m.text or "").split()) for m in messages)
    assert _usage(messages, "one two")["input_token_count"] == expected
    assert _usage(messages, "one two")["output_token_count"] == 2
