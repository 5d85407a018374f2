"""Records, keys and the Azure Table encoding: pure functions, no store, no sockets."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from durableagent.conversation import (
    MAX_RECORD_UTF16_UNITS,
    RecordTooLargeError,
    SessionRef,
    TurnRecord,
    base,
)
from durableagent.conversation._table_codec import (
    CHUNK_UNITS,
    MAX_ENTITY_BYTES,
    entity_size,
    split_utf16,
    translated_errors,
    turn_entity,
    turn_text,
)
from durableagent.conversation.base import (
    MAX_STORED_RECORD_BYTES,
    ReplyTooLargeError,
    StoreError,
    StoreUnavailableError,
    check_turn_size,
    encode_record,
    utf16_units,
)


def record(turn: int = 1, text: str = "hi", **extra: object) -> TurnRecord:
    fields: dict[str, object] = {
        "turn": turn,
        "request_id": "r-1",
        "role": "user",
        "user": {"contents": [{"type": "text", "text": text}]},
        "reply": None,
        "value": None,
        "error": None,
        "started_at": "2025-01-01T00:00:00Z",
        "completed_at": "2025-01-01T00:00:01Z",
    }
    fields.update(extra)
    return TurnRecord(**fields)  # type: ignore[arg-type]


def test_json_round_trip_is_compact_and_exact() -> None:
    original = record(value={"a": [1, 2.5, None, "ü"]}, error={"type": "t", "title": "T", "status": 500})
    text = original.to_json()
    assert ", " not in text
    assert "ü" in text  # not \u-escaped: smaller in every backend
    assert TurnRecord.from_json(text) == original
    assert TurnRecord.from_json(text).to_json() == text


def test_from_json_ignores_unknown_keys_and_rejects_damage() -> None:
    data = json.loads(record().to_json())
    assert TurnRecord.from_json(json.dumps({**data, "future": 1})) == record()
    for broken in (
        [],
        {k: v for k, v in data.items() if k != "role"},
        {**data, "user": None},
        {**data, "turn": 0},
    ):
        with pytest.raises(ValueError):
            TurnRecord.from_json(json.dumps(broken))


@pytest.mark.parametrize("turn", [0, -1, True, 10**10, 1.0])
def test_turn_numbers_are_checked(turn: object) -> None:
    with pytest.raises(ValueError, match="turn must be"):
        record(turn=turn)  # type: ignore[arg-type]


def test_values_must_be_json() -> None:
    with pytest.raises(ValueError):
        record(value=float("nan")).to_json()
    with pytest.raises(TypeError):
        record(value={1, 2}).to_json()


@pytest.mark.parametrize(
    ("agent", "session", "incarnation"),
    [
        ("a/b", "s", "i"),
        ("a", "s\n", "i"),
        ("a", "s", "i~j"),
        ("a", "s", "req"),
        ("a", "s", "x" * 65),
        ("", "s", "i"),
    ],
)
def test_session_refs_are_validated(agent: str, session: str, incarnation: str) -> None:
    with pytest.raises(ValueError):
        SessionRef(agent, session, incarnation)


def test_size_limits_count_utf16_units_for_tables_and_utf8_bytes_for_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert utf16_units("a😀é") == 4
    fits = record(text="😀" * (MAX_RECORD_UTF16_UNITS // 2 - 200))
    assert encode_record(fits) == fits.to_json()
    beyond_a_table_row = record(text="😀" * (MAX_RECORD_UTF16_UNITS // 2))
    assert encode_record(beyond_a_table_row) == beyond_a_table_row.to_json()  # stored in a blob there
    assert MAX_STORED_RECORD_BYTES == 64 * 1024 * 1024
    monkeypatch.setattr(base, "MAX_STORED_RECORD_BYTES", 1024 * 1024)
    assert encode_record(record(text="😀" * 262_000))  # 1,048,000 bytes and the JSON around them
    with pytest.raises(RecordTooLargeError, match="bytes of JSON"):
        encode_record(record(text="😀" * 262_144))  # 4 bytes each: 1 MiB of text alone


def test_the_apps_cap_counts_utf8_bytes() -> None:
    small = record(text="x" * 1000)
    check_turn_size(small, 4096)
    with pytest.raises(ReplyTooLargeError, match="the app stores at most 4096"):
        check_turn_size(record(text="é" * 2100), 4096)  # 2,100 characters, 4,200 bytes


@pytest.mark.parametrize("text", ["", "ascii" * 20_000, "😀a" * 30_000, "é" * 70_000, "a" + "😀" * 40_000])
def test_split_utf16_respects_the_limit_and_code_points(text: str) -> None:
    chunks = split_utf16(text)
    assert "".join(chunks) == text
    assert all(utf16_units(chunk) <= CHUNK_UNITS for chunk in chunks)
    assert all(chunks) or chunks == [""]
    assert split_utf16("😀a😀", limit=2) == ["😀", "a", "😀"]


def test_turn_entity_round_trip_and_entity_limit() -> None:
    text = record(text="😀 x" * 100_000).to_json()
    entity = turn_entity("a~s", "i~0000000001", 1, text)
    assert entity["n"] == len(split_utf16(text)) > 1
    assert entity_size(entity) <= MAX_ENTITY_BYTES
    assert turn_text(entity) == text
    with pytest.raises(RecordTooLargeError, match="1048576"):
        turn_entity("a~s", "i~0000000001", 1, "x" * 530_000)
    with pytest.raises(StoreError, match="lacks"):
        turn_text({**entity, "d1": None})
    with pytest.raises(StoreError, match="unreadable"):
        turn_text({**entity, "v": 99})


def _http_error(status: int) -> HttpResponseError:
    error = HttpResponseError(message=f"status {status}")
    error.status_code = status
    return error


@pytest.mark.parametrize(
    "error", [_http_error(429), _http_error(503), ServiceRequestError("refused"), OSError()]
)
def test_transient_azure_errors_become_unavailable(error: Exception) -> None:
    with pytest.raises(StoreUnavailableError), translated_errors():
        raise error


def test_other_azure_errors_pass_through() -> None:
    with pytest.raises(HttpResponseError), translated_errors():
        raise _http_error(403)
