"""``DurableAIAgent``: an agent as a durable step of an orchestration.

``agent = app.get_agent(context, "Writer")`` (or the 0.0.2b1 names ``get_agent(context, name)``
and ``DurableAIAgent(context, name)``) gives a proxy whose ``run`` returns a task to ``yield``. The
call is a ``run_agent`` operation on the agent's session entity, the same entity and request ledger
the HTTP routes use (``entity/session.py``), made with the SDK's ``call_entity`` (or
``signal_entity`` for ``wait_for_response=False``). Those SDK calls produce the extension's
CallEntity / SignalEntity actions (azure-functions-durable ``DurableOrchestrationContext.call_entity``
builds a ``CallEntityAction``: ``instanceId`` "@name@key", ``operation``, ``input`` = ``df_dumps``;
the extension's ``Listener/OutOfProcOrchestrationShim.cs`` ``InvokeAPIFromAction`` turns action 7
into ``CallEntityAsync(EntityId.GetEntityIdFromSchedulerId(instanceId), operation, input)`` and 9
into a fire-and-forget ``SignalEntity``), so the same orchestrator runs on Azure and on the local
host (``local/orchestrations/actions.py`` speaks the same actions).

The names and signatures follow agent-framework-azurefunctions 1.0 (``run(messages, *, stream,
session, options)``, ``create_session()``, ``get_session(service_session_id)``), so code written for
it changes only its import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import azure.durable_functions as df
from agent_framework import AgentSession

from durableagent.orchestration import registry
from durableagent.orchestration.request import RunSpec, entity_input, next_request_id, normalize_text
from durableagent.orchestration.tasks import AgentTask, ResultReader, accepted_response
from durableagent.session_id import AgentSessionId

RUN_OPERATION = "run_agent"
_LEGACY_OPTIONS = ("response_format", "enable_tool_calls", "wait_for_response")  # 0.0.2b1 run() keywords


class DurableAgentSession(AgentSession):
    """A session of a durable agent: the session entity ``@agent@key`` (``durable_session_id``)."""

    def __init__(self, durable_session_id: AgentSessionId, *, session_id: str | None = None) -> None:
        """The session ``durable_session_id``; its key is also the framework's service session id."""
        super().__init__(session_id=session_id, service_session_id=durable_session_id.key)
        self.durable_session_id = durable_session_id

    @property
    def key(self) -> str:
        """The session key: the ``{sessionId}`` of ``GET /api/agents/{name}/{sessionId}``."""
        return self.durable_session_id.key


class DurableAIAgent:
    """A proxy for a registered agent inside an orchestrator function."""

    def __init__(
        self, context: df.DurableOrchestrationContext, name: str, *, agent_id: str | None = None
    ) -> None:
        """Proxy agent ``name`` in ``context``.

        Raises:
            ValueError: no ``AgentFunctionApp`` of this process has an agent of that name.
        """
        resolved = registry.resolve(name)
        self.context = context
        self.name = resolved
        self.id = agent_id if agent_id is not None else resolved
        self.display_name = resolved
        self.description: str | None = f"Durable agent proxy for {resolved}"

    def create_session(self, *, session_id: str | None = None, **kwargs: Any) -> DurableAgentSession:
        """A new session; its key comes from ``context.new_uuid()``, so a replay creates the same one."""
        return DurableAgentSession(AgentSessionId(self.name, self.context.new_uuid()), session_id=session_id)

    def get_session(
        self, service_session_id: str, *, session_id: str | None = None, **kwargs: Any
    ) -> DurableAgentSession:
        """An existing session by key (e.g. one also used over HTTP).

        Raises:
            ValueError: the key is not ``[A-Za-z0-9_-]{1,128}``.
        """
        return DurableAgentSession(AgentSessionId(self.name, service_session_id), session_id=session_id)

    def get_new_thread(self, **kwargs: Any) -> DurableAgentSession:
        """0.0.2b1's name for :meth:`create_session`."""
        return self.create_session(**kwargs)

    def run(
        self,
        messages: Any = None,
        *,
        stream: Literal[False] = False,
        session: AgentSession | None = None,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> AgentTask:
        """Run the agent on ``messages``; returns a task to ``yield`` (result: an ``AgentResponse``).

        Args:
            messages: A string, a message or a list of them (text only; joined with newlines).
            stream: Must be False: a durable run is not streamed.
            session: The session to run in; None starts a new one (a replay-stable key).
            options: ``response_format`` (a pydantic model class or a JSON Schema dict; sets
                ``.value``), ``enable_tool_calls`` (default True), ``wait_for_response`` (default
                True; False signals the entity and completes at once with an acceptance response).
            **kwargs: 0.0.2b1 keywords: ``thread`` (= ``session``), ``response_format``,
                ``enable_tool_calls``.

        Raises:
            ValueError: streaming, a message without text, an unknown option or an unusable format.
        """
        if stream is not False:
            raise ValueError("a durable agent run cannot stream (stream must be False)")
        session = session if session is not None else kwargs.pop("thread", None)
        merged = {**dict(options or {}), **{k: kwargs.pop(k) for k in list(kwargs) if k in _LEGACY_OPTIONS}}
        if kwargs:
            raise ValueError(f"unexpected arguments {sorted(kwargs)}")
        spec = RunSpec.from_options(merged)
        text = normalize_text(messages)
        durable = self._session_of(session)
        request_id = next_request_id(self.context)
        payload = entity_input(request_id, text, spec, self.context.instance_id)
        entity = durable.durable_session_id.to_entity_id()
        reader = ResultReader(self.name, request_id, spec.response_format)
        if not spec.wait_for_response:
            self.context.signal_entity(entity, RUN_OPERATION, payload)
            created = self.context.current_utc_datetime.isoformat()
            return AgentTask(None, reader, accepted_response(request_id, created))
        return AgentTask(self.context.call_entity(entity, RUN_OPERATION, payload), reader)

    def _session_of(self, session: AgentSession | None) -> DurableAgentSession:
        if isinstance(session, DurableAgentSession):
            if session.durable_session_id.name.lower() != self.name.lower():
                raise ValueError(f"the session belongs to agent {session.durable_session_id.name!r}")
            return session
        if session is not None and session.service_session_id:
            return self.get_session(str(session.service_session_id))
        return self.create_session()


def get_agent(context: df.DurableOrchestrationContext, agent_name: str) -> DurableAIAgent:
    """The 0.0.2b1 entry point: ``get_agent(context, name)``; same as ``app.get_agent``."""
    return DurableAIAgent(context, agent_name)
