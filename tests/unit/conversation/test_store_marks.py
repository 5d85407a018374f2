"""Turn-control marks (store_protocol.TurnControl): the same assertions against every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from turn_records import record

from durableagent.conversation import ConversationStore, MemoryConversationStore, SessionRef
from durableagent.conversation.base import control_of
from durableagent.conversation.store_protocol import TurnControl

pytestmark = pytest.mark.anyio

A, S = "WeatherAgent", "user-123"
REF = SessionRef(A, S, "9f2c0a1b2c3d4e5f")


def _control(store: ConversationStore) -> TurnControl:
    control = control_of(store)
    assert control is not None
    return control


async def test_a_mark_is_read_back_and_discarded_is_never_downgraded(store: ConversationStore) -> None:
    control = _control(store)
    assert await control.mark_of(A, S, "r1") is None
    await control.set_mark(A, S, "r1", "cancel")
    assert await control.mark_of(A, S, "r1") == "cancel"
    await control.set_mark(A, S, "r2", "discarded")
    await control.set_mark(A, S, "r2", "cancel")
    assert await control.mark_of(A, S, "r2") == "discarded"
    assert await control.mark_of(A, "other", "r1") is None


async def test_request_ids_lists_the_ledger_rows_only(store: ConversationStore) -> None:
    control = _control(store)
    await store.begin_attempt(A, S, "r1")
    await store.mark_accepted(A, S, "r2")
    await control.set_mark(A, S, "r3", "cancel")
    await store.append_turn(REF, record(1))
    assert sorted(await control.request_ids(A, S)) == ["r1", "r2"]
    await store.forget_request(A, S, "r1")
    assert await control.request_ids(A, S) == ["r2"]


async def test_a_reset_replaces_every_mark_and_survives_drop_session(
    store: ConversationStore, make_store: Callable[[], ConversationStore]
) -> None:
    control = _control(store)
    await control.set_mark(A, S, "old", "cancel")
    await store.drop_session(A, S)
    await control.replace_marks(A, S, ["r1", "r2", "r1"])
    assert await control.mark_of(A, S, "old") is None
    assert [await control.mark_of(A, S, r) for r in ("r1", "r2")] == ["discarded", "discarded"]
    if isinstance(store, MemoryConversationStore):
        return  # nothing outlives a memory store
    reopened = make_store()
    try:
        assert await _control(reopened).mark_of(A, S, "r2") == "discarded"  # durable, not a cache
    finally:
        await reopened.aclose()


async def test_marks_refuse_bad_keys(store: ConversationStore) -> None:
    control = _control(store)
    with pytest.raises(ValueError):
        await control.set_mark(A, S, "bad id", "cancel")
    with pytest.raises(ValueError):
        await control.set_mark(A, S, "r1", "stopped")  # type: ignore[arg-type]
