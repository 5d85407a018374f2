"""The orchestration engine of the local host (Durable Functions 1.x JSON orchestrator protocol).

Why a package of small modules: the engine has a pure core (``batching`` → ``episode`` →
``actions``/``retrying``, tested against the real SDK without I/O) and a thin runtime around it
(``tables``/``commit`` over SQLite, ``runtime`` for episodes, activities and timers, ``api`` and
``query_api`` for the Durable HTTP API). The host calls :func:`install` at startup
(``server.EXTENSIONS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from durableagent.local.host_context import HostContext

STOP_TIMEOUT_S = 10.0


def install(ctx: HostContext) -> None:
    """Plug the engine into the host: Durable API routes, entity call results, start/stop hooks."""
    from durableagent.local.orchestrations.api import InstanceApi
    from durableagent.local.orchestrations.query_api import QueryApi
    from durableagent.local.orchestrations.runtime import OrchestrationEngine

    engine = OrchestrationEngine(ctx)
    instances = InstanceApi(ctx, engine)
    queries = QueryApi(instances)
    api = ctx.durable_api
    api.add_route("orchestrators/{functionName}/{instanceId?}", ["POST"], instances.start)
    api.add_route("instances/{instanceId?}", ["GET"], queries.get)
    api.add_route("instances/{instanceId?}", ["DELETE"], queries.delete)
    api.add_route("instances/{instanceId}/raiseEvent/{eventName}", ["POST"], instances.raise_event)
    api.add_route("instances/{instanceId}/{operation}", ["POST"], instances.operation)
    ctx.entities.set_call_result_sink(engine)
    ctx.served_triggers.update({"orchestrationTrigger", "activityTrigger"})

    async def stop() -> None:
        await engine.stop(STOP_TIMEOUT_S)

    ctx.on_start.append(engine.start)
    ctx.on_stop.append(stop)
