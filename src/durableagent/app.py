"""``AgentFunctionApp``: a Durable Functions app that serves Agent Framework agents.

One line turns agents into an app: ``app = AgentFunctionApp(agents=[agent])``. It registers the
HTTP routes of openapi.yaml once (they are generic over ``{agentName}``; ``http/routes.py``) and one
durable entity per agent (``entity_name`` = the agent's name; one entity instance per session;
``entity/session.py``). Being a ``df.DFApp``, it takes any other function too (``@app.route``,
``@app.timer_trigger``, orchestrations, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import azure.durable_functions as df
import azure.functions as func
from agent_framework import SupportsAgentRun

from durableagent.callbacks import AgentResponseCallbackProtocol
from durableagent.conversation.base import ConversationStore
from durableagent.conversation.factory import StoreHolder
from durableagent.entity.agent_call import CallSettings, install_history_provider
from durableagent.entity.history import HistoryCache
from durableagent.entity.registration import AgentRegistration
from durableagent.entity.session import SessionEntity, entity_function
from durableagent.entity.turn import TurnRunner
from durableagent.http import http_model
from durableagent.http.edge import RouteContext
from durableagent.http.routes import register_routes
from durableagent.options import AppOptions
from durableagent.orchestration import registry as agent_registry
from durableagent.session_id import is_identifier

if TYPE_CHECKING:
    from durableagent.orchestration.proxy import DurableAIAgent

logger = logging.getLogger("durableagent.app")


class AgentFunctionApp(df.DFApp):
    """A Durable Functions app whose agents each get a session entity and the HTTP API of openapi.yaml."""

    def __init__(
        self,
        agents: Iterable[SupportsAgentRun] | None = None,
        http_auth_level: func.AuthLevel = func.AuthLevel.ANONYMOUS,
        enable_health_check: bool = True,
        default_callback: AgentResponseCallbackProtocol | None = None,
        *,
        options: AppOptions | None = None,
        conversation_store: ConversationStore | None = None,
        http_streaming: bool = False,
        **kwargs: Any,
    ) -> None:
        """Register the routes, then ``agents`` (see :meth:`add_agent`).

        Args:
            agents: The agents to serve.
            http_auth_level: Auth level of the agent routes (the contract and docs are anonymous).
            enable_health_check: Register ``GET /health``.
            default_callback: Callback for agents added without their own.
            options: Tunable behaviour (:class:`~durableagent.AppOptions`).
            conversation_store: Where transcripts live (default: chosen from the environment).
            http_streaming: Serve the HTTP routes as FastAPI-typed functions, the model of the Azure
                Functions HTTP streams extension (``pip install 'durableagent[http-streaming]'``
                and the app setting ``PYTHON_ENABLE_INIT_INDEXING=1``), in which streamed replies
                leave as they are produced. It applies to every HTTP function of the app.
            **kwargs: Passed to ``df.DFApp``.

        Raises:
            RuntimeError: ``http_streaming`` without the extension installed, or the extension
                already imported (so the worker runs every HTTP function in the FastAPI model)
                while ``http_streaming`` is False.
        """
        http_model.check(http_streaming)
        super().__init__(http_auth_level=http_auth_level, **kwargs)
        self.http_streaming = http_streaming
        self.options = options or AppOptions()
        self.default_callback = default_callback
        self.enable_health_check = enable_health_check
        self._registrations: dict[str, AgentRegistration] = {}  # by lower-cased name
        self._entities: dict[str, SessionEntity] = {}
        self._history = HistoryCache(max_bytes=self.options.history_cache_bytes)
        self.stores = StoreHolder(conversation_store)
        self.routes = RouteContext(self._registrations, self.options, self.stores)
        register_routes(
            self,
            self.routes,
            http_auth_level=http_auth_level,
            health=enable_health_check,
            http_streaming=http_streaming,
        )
        for agent in agents or ():
            self.add_agent(agent)
        agent_registry.remember(self)

    @property
    def agents(self) -> dict[str, SupportsAgentRun]:
        """The registered agents by name."""
        return {reg.name: reg.agent for reg in self._registrations.values()}

    def add_agent(
        self, agent: SupportsAgentRun, callback: AgentResponseCallbackProtocol | None = None
    ) -> None:
        """Register ``agent``: its session entity, reachable at ``/agents/{agent.name}/...``.

        Raises:
            ValueError: the agent has no valid name, or an agent with the same name (compared
                case-insensitively, as Durable entity names are) is already registered.
        """
        name = getattr(agent, "name", None)
        if not name:
            raise ValueError("the agent has no name; give it one (Agent(..., name='WeatherAgent'))")
        if not is_identifier(name):
            raise ValueError(f"agent name {name!r} must match [A-Za-z0-9_-]{{1,128}}")
        if name.lower() in self._registrations:
            raise ValueError(f"an agent named {name!r} is already registered (names are case-insensitive)")
        registration = AgentRegistration(
            name=name,
            agent=agent,
            callback=callback or self.default_callback,
            uses_provider=install_history_provider(agent),
            allowed_roles=frozenset(self.options.allowed_roles),
            max_attempts=self.options.max_attempts,
            call=CallSettings(
                timeout=self.options.model_timeout,
                transient_retries=self.options.transient_retries,
                stream_retention=self.options.stream_retention,
            ),
        )
        self._registrations[name.lower()] = registration
        function_name = f"entity_{name.replace('-', '_')}"
        function = entity_function(lambda: self._entity(name))
        function.__name__ = function_name
        self.function_name(function_name)(
            self.entity_trigger(context_name="context", entity_name=name)(function)
        )
        logger.info("registered agent %s", name)

    def get_agent(
        self, context: df.DurableOrchestrationContext, agent_name: str, workflow_name: str | None = None
    ) -> DurableAIAgent:
        """A durable proxy for agent ``agent_name`` in an orchestrator (``yield agent.run(...)``).

        Raises:
            ValueError: no agent of that name is registered (the message lists the registered
                ones), or a ``workflow_name`` (accepted for the 1.0 line's signature; durableagent
                has no workflows).
        """
        if workflow_name is not None:
            raise ValueError("durableagent has no workflows; call get_agent(context, agent_name)")
        from durableagent.orchestration.proxy import DurableAIAgent

        agent_registry.resolve(agent_name, [self])
        return DurableAIAgent(context, agent_name)

    def registration(self, name: str) -> AgentRegistration | None:
        """The agent registered under ``name`` (case-insensitive), if any."""
        return self._registrations.get(name.lower())

    def _entity(self, name: str) -> SessionEntity:
        entity = self._entities.get(name.lower())
        if entity is None:
            registration = self._registrations[name.lower()]
            runner = TurnRunner(registration, self.stores.store(), self._history)
            entity = SessionEntity(runner, registration.agent_type)
            self._entities[name.lower()] = entity
        return entity
