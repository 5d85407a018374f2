"""The ``durableClient`` input binding: the JSON string a Durable Functions client function receives.

Why: ``DurableOrchestrationClient`` (azure-functions-durable 1.x) is built from this string, and
every management call it makes goes to ``rpcBaseUrl``. The real host writes it in
``BindingHelper.DurableOrchestrationClientToString``; the local host and the tests build it here,
in one place, with the same field names (protocol.md §4.1).

Invariant: ``rpcBaseUrl`` ends with ``/`` (the SDK appends ``entities/...``/``instances/...`` to it)
and ``managementUrls`` keep the ``INSTANCEID`` placeholder the SDK substitutes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

INSTANCE_ID_PLACEHOLDER = "INSTANCEID"
WEBHOOK_PATH = "/runtime/webhooks/durabletask"
DEFAULT_CONNECTION = "Storage"

_MANAGEMENT_SUFFIXES = {
    "statusQueryGetUri": "",
    "sendEventPostUri": "/raiseEvent/{eventName}",
    "terminatePostUri": "/terminate?reason={text}",
    "rewindPostUri": "/rewind?reason={text}",
    "purgeHistoryDeleteUri": "",
    "restartPostUri": "/restart",
    "suspendPostUri": "/suspend?reason={text}",
    "resumePostUri": "/resume?reason={text}",
}


def management_urls(
    public_base_url: str,
    *,
    task_hub: str,
    connection: str = DEFAULT_CONNECTION,
    required_query: str = "",
    instance_id: str = INSTANCE_ID_PLACEHOLDER,
) -> dict[str, str]:
    """The ``managementUrls`` object (also the body of a check-status response) for one instance.

    ``public_base_url`` is the app's origin (``http://127.0.0.1:7071``); ``required_query`` is
    ``code=<systemKey>`` or empty.
    """
    base = (
        public_base_url.rstrip("/")
        + WEBHOOK_PATH
        + "/instances/"
        + (instance_id if instance_id == INSTANCE_ID_PLACEHOLDER else quote(instance_id, safe=""))
    )
    common = f"taskHub={quote(task_hub, safe='')}&connection={quote(connection, safe='')}"
    if required_query:
        common += "&" + required_query
    urls: dict[str, str] = {"id": instance_id}
    for name, suffix in _MANAGEMENT_SUFFIXES.items():
        sep = "&" if "?" in suffix else "?"
        urls[name] = f"{base}{suffix}{sep}{common}"
    return urls


def client_binding(
    *,
    public_base_url: str,
    rpc_base_url: str,
    task_hub: str,
    connection: str = DEFAULT_CONNECTION,
    system_key: str | None = None,
) -> dict[str, Any]:
    """The binding as a dict (see :func:`client_binding_json`)."""
    if not rpc_base_url.endswith("/"):
        raise ValueError("rpc_base_url must end with '/'")
    required_query = f"code={system_key}" if system_key else ""
    base_url = public_base_url.rstrip("/") + WEBHOOK_PATH
    creation_prefix = base_url + "/orchestrators/{functionName}[/{instanceId}]"
    suffix = required_query
    return {
        "taskHubName": task_hub,
        "creationUrls": {
            "createNewInstancePostUri": f"{creation_prefix}?{suffix}",
            "createAndWaitOnNewInstancePostUri": (
                f"{creation_prefix}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{suffix}"
            ),
        },
        "managementUrls": management_urls(
            public_base_url, task_hub=task_hub, connection=connection, required_query=required_query
        ),
        "baseUrl": base_url,
        "requiredQueryStringParameters": required_query,
        "rpcBaseUrl": rpc_base_url,
        "httpBaseUrl": None,
        "connectionName": None,
    }


def client_binding_json(
    *,
    public_base_url: str,
    rpc_base_url: str,
    task_hub: str,
    connection: str = DEFAULT_CONNECTION,
    system_key: str | None = None,
) -> str:
    """The JSON string passed as the ``durableClient`` parameter (the SDK parses it)."""
    return json.dumps(
        client_binding(
            public_base_url=public_base_url,
            rpc_base_url=rpc_base_url,
            task_hub=task_hub,
            connection=connection,
            system_key=system_key,
        )
    )
