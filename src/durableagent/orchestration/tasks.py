"""``AgentTask``: the task ``DurableAIAgent.run`` returns, resolved to an ``AgentResponse``.

Why a compound task around the SDK's entity-call task: the orchestrator yields it (alone or inside
``context.task_all`` / ``task_any``) like any Durable task, and the SDK replays it from history
like the entity call it wraps; when that call completes, the entity's raw result is turned into an
``AgentResponse`` (with ``.value`` validated against the requested format) or into an
:class:`~durableagent.orchestration.errors.AgentRunError` thrown into the orchestrator.

How it fits the SDK (azure-functions-durable 1.x, ``models/Task.py``): a ``CompoundTask`` is
scheduled when its children are, its children's actions are what the extension sees, and a child's
completion calls ``try_set_value`` on its parent. The wrapper reports its child's action as its own
(``action_repr``), so yielding it records exactly the child's ``CallEntity`` action on every replay
schema. A fire-and-forget run has no child: a compound task with no children is scheduled and
complete from the start, so yielding it adds no action and resumes the orchestrator at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_framework import AgentResponse, Message
from azure.durable_functions.models.Task import CompoundTask, TaskBase, TaskState
from pydantic import BaseModel, ValidationError

from durableagent.contract.problems import InternalError, StructuredOutputInvalid
from durableagent.orchestration.errors import AgentRunError


class AgentTask(CompoundTask):  # type: ignore[misc]  # the SDK's classes are untyped
    """A durable agent turn: yield it to get the turn's ``AgentResponse``."""

    def __init__(
        self, entity_task: TaskBase | None, reader: ResultReader, accepted: AgentResponse | None = None
    ):
        """Wrap ``entity_task`` (None: fire and forget, already completed with ``accepted``)."""
        self._reader = reader
        super().__init__([entity_task] if entity_task is not None else [])
        if entity_task is not None:
            self.action_repr = entity_task.action_repr
        else:
            self.set_value(is_error=False, value=accepted)

    @property
    def correlation_id(self) -> str:
        """The turn's request id."""
        return self._reader.request_id

    def try_set_value(self, child: TaskBase) -> None:
        """Resolve from the completed entity call: an ``AgentResponse`` or an ``AgentRunError``."""
        if self.state is not TaskState.RUNNING:
            return
        if child.state is not TaskState.SUCCEEDED:  # the operation itself raised (unreadable state)
            self.set_value(is_error=True, value=self._reader.failure())
            return
        try:
            response = self._reader(child.result)
        except AgentRunError as error:
            self.set_value(is_error=True, value=error)
        else:
            self.set_value(is_error=False, value=response)


class ResultReader:
    """Turns the session entity's result for one request into an ``AgentResponse``."""

    def __init__(
        self, agent_name: str, request_id: str, response_format: type[BaseModel] | Mapping[str, Any] | None
    ):
        """Read the result of ``request_id`` on ``agent_name`` with the caller's ``response_format``."""
        self.agent_name = agent_name
        self.request_id = request_id
        self.response_format = response_format

    def __call__(self, raw: Any) -> AgentResponse:
        """The response; raises :class:`AgentRunError` for a failed turn or an unreadable result."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("status"), int):
            raise self._error(InternalError("The session entity's result could not be read.").to_record())
        if raw["status"] != 200 or not isinstance(raw.get("response"), Mapping):
            stored_problem = raw.get("problem")
            problem: Mapping[str, Any] = (
                stored_problem if isinstance(stored_problem, Mapping) else {"status": raw["status"]}
            )
            raise self._error(problem, retryable=bool(raw.get("retryable")))
        stored = AgentResponse.from_dict(dict(raw["response"]))
        value = self._value(raw.get("value"))
        return AgentResponse(
            messages=list(stored.messages),
            response_id=stored.response_id,
            agent_id=stored.agent_id,
            created_at=stored.created_at,
            finish_reason=stored.finish_reason,
            usage_details=stored.usage_details,
            value=value,
            additional_properties={
                **(stored.additional_properties or {}),
                "correlation_id": self.request_id,
                "turn": raw.get("turn"),
            },
        )

    def _value(self, value: Any) -> Any:
        """``.value``: the validated pydantic instance, the schema-checked JSON, or None."""
        fmt = self.response_format
        if fmt is None:
            return None
        if isinstance(fmt, type) and issubclass(fmt, BaseModel):
            try:
                return fmt.model_validate(value)
            except ValidationError:
                invalid = StructuredOutputInvalid(
                    "The agent's reply does not match the response_format model."
                )
                raise self._error(invalid.to_record()) from None
        return value

    def failure(self) -> AgentRunError:
        """The error of a call whose entity operation raised instead of answering."""
        return self._error(InternalError("The session entity could not run the request.").to_record())

    def _error(self, problem: Mapping[str, Any], *, retryable: bool = False) -> AgentRunError:
        return AgentRunError(self.agent_name, self.request_id, problem, retryable=retryable)


def accepted_response(request_id: str, created_at: str) -> AgentResponse:
    """The result of a fire-and-forget run: the request was sent, nothing was awaited."""
    text = f"Request {request_id} accepted; the orchestration did not wait for the reply."
    return AgentResponse(
        messages=[Message(role="system", contents=[text])],
        response_id=request_id,
        created_at=created_at,
        additional_properties={"correlation_id": request_id, "accepted": True},
    )
