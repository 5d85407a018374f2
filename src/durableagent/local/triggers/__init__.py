"""Timer, queue and blob triggers and the storage bindings of the local host.

Why a package: each trigger is a listener of its own (``timers``, ``queue_listener``, ``blob_listener``)
over shared pieces (``schedules``/``ncrontab`` for timers; ``storage_account``, ``azurite`` and
``storage_bindings`` for Azure Storage through Azurite). The host calls :func:`install` at startup
(``server.EXTENSIONS``); a function whose trigger cannot run (a bad schedule, no storage account) is
listed in the banner with the reason and the others run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from durableagent.local.host_context import HostContext


STORAGE_TYPES = frozenset({"queueTrigger", "blobTrigger", "queue", "blob", "table"})
"""Trigger and binding types served by the storage engine (``storage_bindings``, the listeners)."""


def uses_storage(ctx: HostContext) -> bool:
    """Whether any function of the app has a storage trigger or binding."""
    return any(str(b.type) in STORAGE_TYPES for fn in ctx.index.functions for b in fn.get_bindings())


def install(ctx: HostContext) -> None:
    """Plug the timer engine and (when an app uses storage) the storage engine into the host.

    The Azure Storage SDKs (and what they load) are imported only for an app that uses storage.
    """
    from durableagent.local.triggers.timer_engine import TimerEngine

    TimerEngine(ctx).install()
    if uses_storage(ctx):
        from durableagent.local.triggers.storage_engine import StorageEngine

        StorageEngine(ctx).install()
