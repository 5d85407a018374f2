"""durableagent's offline model: a deterministic stand-in for a language model, needing no network.

The sample app uses it when no model is configured; tests and the bench use it as a fast,
predictable model. It does not understand language: it echoes, calls a tool whose name appears
in the message, and fills structured output from a schema.
"""

from durableagent.offline.model import OfflineChatClient, OfflineServiceError

__all__ = ["OfflineChatClient", "OfflineServiceError"]
