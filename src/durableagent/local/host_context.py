"""The running host's parts, handed to engines and extensions (the orchestration engine plugs in here).

Why: engines need the same store, invoker, function plans, keys and Durable API registry as the
front door, and a place to hook startup and shutdown. Passing one :class:`HostContext` keeps the
wiring in ``server.py`` and lets an extension module (``install(ctx)``) add endpoints, a call-result
sink and background work without editing the host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from durableagent.local.durable_api import DurableApi
from durableagent.local.entity_engine import EntityEngine
from durableagent.local.indexing import AppIndex, FunctionPlan
from durableagent.local.invoke import Invoker
from durableagent.local.keys import KeyRing
from durableagent.local.settings import AppSettings
from durableagent.local.store import Store
from durableagent.local.wire.client_binding import DEFAULT_CONNECTION, client_binding_json, management_urls

Hook = Callable[[], Awaitable[None]]


@dataclass
class HostContext:
    """What every part of a running host shares: settings, index, store, keys, engines, hooks."""

    settings: AppSettings
    index: AppIndex
    store: Store
    invoker: Invoker
    plans: dict[str, FunctionPlan]  # by function name
    keys: KeyRing
    durable_api: DurableApi
    entities: EntityEngine
    public_base_url: str  # e.g. http://127.0.0.1:7071
    rpc_base_url: str  # e.g. http://127.0.0.1:40123/<token>/durabletask/
    served_triggers: set[str] = field(default_factory=lambda: {"httpTrigger", "entityTrigger"})
    on_start: list[Hook] = field(default_factory=list)  # run after the listeners accept connections
    on_stop: list[Hook] = field(default_factory=list)  # run after HTTP drained, before the store closes
    banner_lines: list[Callable[[], list[str]]] = field(default_factory=list)  # extensions' banner lines

    @property
    def hub_name(self) -> str:
        """The task hub name (host.json ``hubName``, ``%SETTING%`` resolved)."""
        return self.settings.hub_name

    def management_urls(self, instance_id: str, public_base_url: str | None = None) -> dict[str, str]:
        """The check-status payload of ``instance_id`` (``{id, statusQueryGetUri, ...}``, system key in).

        Pass ``DurableRequest.public_base_url`` so links use the origin the caller reached.
        """
        return management_urls(
            public_base_url or self.public_base_url,
            task_hub=self.hub_name,
            required_query=f"code={self.keys.system}",
            instance_id=instance_id,
        )

    def client_binding_json(self, task_hub: str | None = None, connection: str | None = None) -> str:
        """The durableClient binding string (protocol.md §4.1) for this host."""
        return client_binding_json(
            public_base_url=self.public_base_url,
            rpc_base_url=self.rpc_base_url,
            task_hub=task_hub or self.hub_name,
            connection=connection or DEFAULT_CONNECTION,
            system_key=self.keys.system,
        )
