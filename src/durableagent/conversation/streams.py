"""The stream log of a conversation store: the one place that pairs each backend with its log.

A SQLite store keeps its logs in its own file, an Azure Table store in its own table; any other
store (memory, or an app's own ``ConversationStore``) gets a log in memory, which serves streams
from this process only.
"""

from __future__ import annotations

import threading
import weakref

from durableagent.conversation.azure_table import AzureTableConversationStore
from durableagent.conversation.sqlite import SQLiteConversationStore
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.conversation.stream_base import StreamLog
from durableagent.conversation.stream_memory import MemoryStreamLog
from durableagent.conversation.stream_sqlite import SQLiteStreamLog
from durableagent.conversation.stream_table import AzureTableStreamLog

_lock = threading.Lock()
_logs: weakref.WeakKeyDictionary[ConversationStore, StreamLog] = weakref.WeakKeyDictionary()


def stream_log_of(store: ConversationStore) -> StreamLog:
    """The stream log that lives with ``store`` (made on first use, then the same object)."""
    with _lock:
        log = _logs.get(store)
        if log is None:
            if isinstance(store, SQLiteConversationStore):
                log = SQLiteStreamLog(store)
            elif isinstance(store, AzureTableConversationStore):
                log = AzureTableStreamLog(store)
            else:
                log = MemoryStreamLog()
            _logs[store] = log
        return log
