"""The one table of trigger and binding types, and whether the local host runs them.

Why: a function whose binding the host cannot run must never run half-way (an output value
silently thrown away, an input silently ``None``). Indexing, the startup listing, the refusal of
such functions (:mod:`durableagent.local.unsupported`) and the README's compatibility table all
read this table, so a binding that becomes runnable (the storage triggers and bindings of
``local/triggers/``) is switched on here, in one place.

Keys are binding types as ``function.json`` and the decorators spell them (compared
case-insensitively, as the Functions host does).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from enum import Enum


class Support(str, Enum):
    """Whether the local host runs a binding type, or only Azure does."""

    LOCAL = "runs on the local host"
    AZURE_ONLY = "Azure only"  # needs a service the local host does not emulate


@dataclass(frozen=True)
class BindingSupport:
    """One row of :data:`TABLE`: a binding type, whether it runs here, and its service."""

    type: str
    support: Support
    what: str  # the service or feature, for messages and the README


def _rows(support: Support, what: str, *types: str) -> dict[str, BindingSupport]:
    return {t.lower(): BindingSupport(t, support, what) for t in types}


LOCAL = Support.LOCAL
AZURE = Support.AZURE_ONLY


def _triggers_package() -> bool:
    """Whether ``durableagent.local.triggers`` (timers, and storage through Azurite) is installed."""
    return importlib.util.find_spec("durableagent.local.triggers") is not None


# Timers and Azure Storage run when local/triggers/ is present (it runs them against Azurite).
STORAGE = LOCAL if _triggers_package() else AZURE

TABLE: dict[str, BindingSupport] = {
    **_rows(LOCAL, "HTTP", "httpTrigger", "http"),
    **_rows(LOCAL, "Durable Functions", "orchestrationTrigger", "activityTrigger", "entityTrigger"),
    # "orchestrationClient" is the 1.x name of the same binding (OrchestrationClientAttribute).
    **_rows(LOCAL, "Durable Functions client", "durableClient", "orchestrationClient"),
    **_rows(STORAGE, "Timer", "timerTrigger"),
    **_rows(STORAGE, "Azure Queue Storage", "queueTrigger", "queue"),
    **_rows(STORAGE, "Azure Blob Storage", "blobTrigger", "blob"),
    **_rows(STORAGE, "Azure Table Storage", "table"),
    **_rows(AZURE, "Azure Service Bus", "serviceBusTrigger", "serviceBus"),
    **_rows(AZURE, "Azure Event Hubs", "eventHubTrigger", "eventHub"),
    **_rows(AZURE, "Azure Event Grid", "eventGridTrigger", "eventGrid"),
    **_rows(AZURE, "Azure Cosmos DB", "cosmosDBTrigger", "cosmosDB"),
    **_rows(AZURE, "Azure SQL", "sqlTrigger", "sql"),
    **_rows(AZURE, "Azure SignalR Service", "signalRTrigger", "signalR", "signalRConnectionInfo"),
    **_rows(AZURE, "Kafka", "kafkaTrigger", "kafka"),
    **_rows(AZURE, "RabbitMQ", "rabbitMQTrigger", "rabbitMQ"),
    **_rows(AZURE, "SendGrid", "sendGrid"),
    **_rows(AZURE, "Twilio", "twilioSms"),
    **_rows(AZURE, "Notification Hubs", "notificationHub"),
    **_rows(AZURE, "Dapr", "daprServiceInvocationTrigger", "daprBindingTrigger", "daprTopicTrigger"),
    **_rows(AZURE, "MySQL", "mysqlTrigger", "mysql"),
    **_rows(AZURE, "Azure OpenAI", "textCompletion", "assistantCreate", "embeddings", "semanticSearch"),
    **_rows(AZURE, "MCP tool", "mcpToolTrigger"),
    **_rows(AZURE, "Warmup (a platform event)", "warmupTrigger"),
}


def lookup(binding_type: str) -> BindingSupport:
    """The row of ``binding_type``; a type the table does not know is Azure only (an extension)."""
    return TABLE.get(binding_type.lower()) or BindingSupport(binding_type, AZURE, "a binding extension")


def runs_locally(binding_type: str) -> bool:
    """Whether the local host runs ``binding_type`` (unknown types do not)."""
    return lookup(binding_type).support is LOCAL
