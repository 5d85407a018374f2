"""Problems of a turn's size (issue 14.3), apart from the catalogue (its size); re-exported there."""

from __future__ import annotations

from .problem_base import Problem


class ReplyTooLarge(Problem):
    """413: the turn (reply and tool results) is over the app's ``max_reply_bytes``; nothing is stored."""

    status, slug, title = 413, "reply-too-large", "The reply is too large to store"
