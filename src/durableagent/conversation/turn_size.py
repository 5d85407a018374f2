"""The app's hard cap on one stored turn (``AppOptions.max_reply_bytes``), checked before any write.

Kept apart from ``large_values`` (the blob side, which imports the Azure SDK) so that the entity,
which must not import Azure packages, can check it.
"""

from __future__ import annotations

from durableagent.conversation.base import RecordTooLargeError, TurnRecord


class ReplyTooLargeError(RecordTooLargeError):
    """The turn's record is over the app's ``max_reply_bytes``: refused before anything is written."""


def utf8_size(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (``TurnRecord.to_json`` escapes lone surrogates, so it encodes)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def check_turn_size(record: TurnRecord, max_bytes: int) -> None:
    """Raise :class:`ReplyTooLargeError` when the record's JSON is over ``max_bytes`` (UTF-8)."""
    text = record.to_json()
    if len(text) <= max_bytes // 4:  # at most 4 bytes a character: surely under the cap
        return
    size = utf8_size(text)
    if size > max_bytes:
        raise ReplyTooLargeError(
            f"turn {record.turn} is {size} bytes of JSON; the app stores at most {max_bytes}"
        )
