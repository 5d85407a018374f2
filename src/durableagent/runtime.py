"""Process-wide runtime pieces an app shares between its routes and its entities.

The conversation store is created lazily, on first use, because its backend clients (Azure
Tables' aiohttp session) belong to the event loop that first uses them: the agent loop.
"""

from __future__ import annotations

import threading

from durableagent.conversation.base import ConversationStore
from durableagent.conversation.factory import store_from_environment


class StoreHolder:
    """Holds the app's ConversationStore: the one given, else one chosen from the environment."""

    def __init__(self, store: ConversationStore | None = None) -> None:
        self._store = store
        self._lock = threading.Lock()

    def store(self) -> ConversationStore:
        store = self._store
        if store is None:
            with self._lock:
                if self._store is None:
                    self._store = store_from_environment()
                store = self._store
        return store
