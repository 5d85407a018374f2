"""``AgentRunError``: how a failed agent turn surfaces in an orchestrator.

Why a typed exception: the reference lines report a failed turn as an empty-text "success", so an
orchestrator cannot tell a refusal from an answer. Here the session entity records the turn's
problem (RFC 9457: type, title, status, optional detail) in its ledger, and the agent task fails
with this exception, raised into the orchestrator at its ``yield`` so ``try/except`` works. It
carries only what the problem record holds: never exception text from the agent or the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durableagent.contract.problems import Problem, from_record


class AgentRunError(RuntimeError):
    """A durable agent turn ended with a problem instead of a reply.

    Attributes:
        agent_name: The agent the turn ran on.
        correlation_id: The turn's request id (deterministic in an orchestration).
        problem_type: The problem's type URI (``https://durableagent.dev/problems/<slug>``).
        status: The problem's HTTP status (422 structured output invalid, 503 upstream, 500 ...).
        title: The problem's title.
        detail: The problem's detail, if any.
        retry_after: Seconds the service suggested to wait (transient failures), if any.
        retryable: Whether running the same request again may succeed.
    """

    def __init__(
        self,
        agent_name: str,
        correlation_id: str,
        problem: Mapping[str, Any],
        *,
        retryable: bool = False,
    ) -> None:
        """Describe the failed turn of ``agent_name`` from its stored ``problem`` record."""
        rebuilt = from_record(problem)
        self.agent_name = agent_name
        self.correlation_id = correlation_id
        self.problem_type = rebuilt.type_uri
        self.status = rebuilt.status
        self.title = rebuilt.title
        self.detail = rebuilt.detail
        self.retry_after = rebuilt.retry_after
        self.retryable = retryable
        self._problem = rebuilt
        super().__init__(
            f"agent {agent_name!r} turn {correlation_id} failed: {rebuilt.title}"
            f" ({rebuilt.status}, {rebuilt.type_uri})"
        )

    @property
    def problem(self) -> Problem:
        """The turn's problem, as the HTTP routes would render it."""
        return self._problem

    def to_dict(self) -> dict[str, Any]:
        """The problem document plus the agent and correlation id (JSON-ready)."""
        return {**self._problem.to_dict(), "agent": self.agent_name, "correlationId": self.correlation_id}
