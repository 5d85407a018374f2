"""The problems of streamed responses (``Last-Event-ID``, ``Accept``), part of the one catalogue.

Kept apart from ``contract.problems`` only for size; import them from there like every problem.
"""

from __future__ import annotations

from .problem_base import Problem


class InvalidLastEventId(Problem):
    """400: ``Last-Event-ID`` (or ``lastEventId``) is not a stream's event id (a decimal number)."""

    status, slug, title = 400, "invalid-last-event-id", "Invalid Last-Event-ID"


class NotAcceptable(Problem):
    """406: the route cannot answer in any media type the request's ``Accept`` allows."""

    status, slug, title = 406, "not-acceptable", "Not acceptable"
