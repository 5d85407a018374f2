"""Where transcripts and the request ledger live (memory, SQLite, Azure Table storage).

The entity keeps only a small ``SessionRecord``; every turn is appended here (idempotently, keyed by
turn number) and the per-request attempt ledger lives beside it. Pick a backend with
:func:`store_from_environment` (or :func:`store_from_url`); all backends pass the same contract suite.
"""

from durableagent.conversation.azure_table import AzureTableConversationStore
from durableagent.conversation.base import (
    MAX_RECORD_UTF16_UNITS,
    RecordTooLargeError,
    RequestState,
    SessionPage,
    SessionRef,
    SessionSummary,
    StoreError,
    StoreUnavailableError,
    TurnRecord,
)
from durableagent.conversation.factory import store_from_environment, store_from_url
from durableagent.conversation.memory import MemoryConversationStore
from durableagent.conversation.paging import InvalidCursorError
from durableagent.conversation.sqlite import SQLiteConversationStore
from durableagent.conversation.store_protocol import ConversationStore

__all__ = [
    "MAX_RECORD_UTF16_UNITS",
    "AzureTableConversationStore",
    "ConversationStore",
    "InvalidCursorError",
    "MemoryConversationStore",
    "RecordTooLargeError",
    "RequestState",
    "SQLiteConversationStore",
    "SessionPage",
    "SessionRef",
    "SessionSummary",
    "StoreError",
    "StoreUnavailableError",
    "TurnRecord",
    "store_from_environment",
    "store_from_url",
]
