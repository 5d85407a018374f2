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
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import azure.durable_functions as df
import azure.functions as func
from agent_framework import CompactionStrategy, SupportsAgentRun

from durableagent.callbacks import AgentResponseCallbackProtocol
from durableagent.conversation.factory import StoreHolder
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity.agent_call import CallSettings, ContextPolicy, install_history_provider
from durableagent.entity.history import HistoryCache
from durableagent.entity.registration import AgentRegistration
from durableagent.entity.session import SessionEntity, entity_function
from durableagent.entity.turn import TurnRunner
from durableagent.http import http_model
from durableagent.http.edge import RouteContext
from durableagent.http.routes import register_routes
from durableagent.options import AppOptions, check_ttl
from durableagent.orchestration import registry as agent_registry
from durableagent.session_id import is_identifier
from durableagent.sweep import FUNCTION_NAME as SWEEP_FUNCTION
from durableagent.sweep import sweep_function

if TYPE_CHECKING:
    from durableagent.orchestration.proxy import DurableAIAgent

logger = logging.getLogger("durableagent.app")
APP_DEFAULT: Final[Any] = object()  # add_agent(session_ttl=...) not given: the app's AppOptions.session_ttl


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
        self._sweeping = False
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
        self,
        agent: SupportsAgentRun,
        callback: AgentResponseCallbackProtocol | None = None,
        *,
        history_window: int | None = None,
        history_token_budget: int | None = None,
        history_reducer: CompactionStrategy | None = None,
        session_ttl: timedelta | None = APP_DEFAULT,
    ) -> None:
        """Register ``agent``: its session entity, reachable at ``/agents/{agent.name}/...``.

        Args:
            agent: The Agent Framework agent (its ``name`` names the routes and the entity).
            callback: Observes the agent's updates and responses (default: the app's).
            history_window: The model sees at most the last N turns (None: all of them).
            history_token_budget: The model sees at most the newest turns whose estimated tokens
                fit in T (None: no budget).
            history_reducer: An Agent Framework ``CompactionStrategy`` applied after the window.
                The stored transcript and ``GET`` always stay whole (``entity/agent_call.py``).
            session_ttl: Idle time after which a session of this agent is deleted (``None``: never;
                default ``AppOptions.session_ttl``). The first agent with one registers the sweep.

        Raises:
            ValueError: the agent has no valid name, an agent with the same name (compared
                case-insensitively, as Durable entity names are) is already registered, a window
                or budget is not a positive int, or ``session_ttl`` is not a positive
                ``timedelta`` or None.
        """
        context = ContextPolicy(history_window, history_token_budget, history_reducer)
        ttl = self.options.session_ttl if session_ttl is APP_DEFAULT else session_ttl
        check_ttl(ttl)
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
            session_ttl=ttl,
            max_reply_bytes=self.options.max_reply_bytes,
            context=context,
        )
        self._registrations[name.lower()] = registration
        function_name = f"entity_{name.replace('-', '_')}"
        function = entity_function(lambda: self._entity(name))
        function.__name__ = function_name
        # A generic entityTrigger binding, not DFApp.entity_trigger: that one wraps the function in
        # the SDK's synchronous Entity.create; both write the same binding to function.json.
        self.function_name(function_name)(
            self.generic_trigger(arg_name="context", type="entityTrigger", entity_name=name)(function)
        )
        if ttl is not None and not self._sweeping:
            self._register_sweep()
        logger.info("registered agent %s", name)

    def _register_sweep(self) -> None:
        """The timer function of ``durableagent.sweep``, once per app."""
        self._sweeping = True
        function = self.generic_input_binding(arg_name="client", type="durableClient")(
            sweep_function(self.routes)
        )
        self.function_name(SWEEP_FUNCTION)(
            self.timer_trigger(arg_name="timer", schedule=self.options.expiry_sweep_schedule)(function)
        )

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
