"""Wire Azure Storage into the host: accounts, Azurite, queue and blob listeners, the bindings hook.

Why: only an app that uses storage pays for it. At install the engine finds the queue- and
blob-triggered functions and every function with storage bindings, installs the invoker's binding
hook for them, and reads ``extensions.queues``. At start it makes sure each local account is served
(starting Azurite when it can, see ``azurite``), then starts the listeners; a function whose account
cannot be used is listed in the banner with the reason (and the command that installs Azurite) while
the rest of the app runs. Writes by output bindings wake the listeners of that queue or container.
"""

from __future__ import annotations

import logging
import os
import re
from typing import TYPE_CHECKING, Any

from durableagent.local.indexing import BLOB_TRIGGER, QUEUE_TRIGGER
from durableagent.local.settings import SettingsError
from durableagent.local.triggers import azurite, queue_options
from durableagent.local.triggers.blob_listener import BlobListener, BlobPathError
from durableagent.local.triggers.invocation import binding_props, drop_missing_inputs
from durableagent.local.triggers.queue_listener import QueueListener, poison_queue_name
from durableagent.local.triggers.storage_account import (
    Accounts,
    StorageAccount,
    StorageSettingError,
    local_endpoints,
)
from durableagent.local.triggers.storage_bindings import StorageBindings, storage_bindings

if TYPE_CHECKING:
    from durableagent.local.host_context import HostContext

log = logging.getLogger("durableagent.local.triggers")
Listener = QueueListener | BlobListener
HOST_ID_SETTING = "AzureFunctionsWebHost__hostid"


def host_id(app_dir_name: str) -> str:
    """The host id in blob receipt paths: ``AzureFunctionsWebHost__hostid``, else from the app folder."""
    configured = os.environ.get(HOST_ID_SETTING, "").strip().lower()
    return configured or (re.sub(r"[^a-z0-9-]", "", app_dir_name.lower())[:32] or "durableagent")


class StorageEngine:
    """The storage side of ``local/triggers``: accounts, Azurite, listeners, binding hook."""

    def __init__(self, ctx: HostContext) -> None:
        """Collect the app's queue and blob triggered functions; nothing starts until install."""
        self.ctx = ctx
        self.accounts = Accounts()
        self.bindings = StorageBindings(self)
        self.queue_options = queue_options.QueueOptions()
        self.triggered = [f for f in ctx.index.listeners if f.trigger_type in (QUEUE_TRIGGER, BLOB_TRIGGER)]
        self.listeners: list[
            tuple[StorageAccount, str, Listener]
        ] = []  # (account, queue/container, listener)
        self.errors: list[tuple[str, str]] = []
        self.emulators: list[azurite.RunningAzurite] = []
        self.notes: list[str] = []

    def install(self) -> None:
        """Hook into the host when the app uses storage (nothing happens otherwise)."""
        users = [fn for fn in self.ctx.index.functions if storage_bindings(fn)]
        if not users and not self.triggered:
            return
        try:
            self.queue_options = queue_options.load(self.ctx.settings.app_dir)
        except queue_options.QueueOptionsError as exc:
            raise SettingsError(str(exc)) from None
        for fn in users:
            if fn.get_function_name() in self.ctx.plans:
                self.bindings.add(fn)
        self.ctx.invoker.bindings = self.bindings
        served = {(fn.get_function_name(), b.name) for fn in users for b in storage_bindings(fn)}
        served.update((fn.name, fn.function.get_trigger().name) for fn in self.triggered)
        drop_missing_inputs(self.ctx, served)
        self.ctx.served_triggers.update({QUEUE_TRIGGER, BLOB_TRIGGER})
        self.ctx.on_start.append(self.start)
        self.ctx.on_stop.append(self.stop)
        self.ctx.banner_lines.append(self.banner)

    def _listener(self, fn: Any) -> tuple[StorageAccount, str, Listener]:
        trigger = fn.function.get_trigger()
        props = binding_props(trigger)
        account = self.accounts.for_binding(props.get("connection"))
        if fn.trigger_type == QUEUE_TRIGGER:
            name = str(props.get("queueName", "")).lower()
            poison = poison_queue_name(name)
            queues = account.queues()
            listener: Listener = QueueListener(
                self.ctx, fn.function, queues.get_queue_client(name),
                queues.get_queue_client(poison) if poison else None, self.queue_options,
            )  # fmt: skip
            return account, name, listener
        blob = BlobListener(
            self.ctx, fn.function, str(props.get("path", "")), account.blobs(), account.queues(),
            host_id(self.ctx.settings.app_dir.name), self.queue_options.max_dequeue_count,
        )  # fmt: skip
        return account, blob.container, blob

    async def start(self) -> None:
        """Serve local accounts (Azurite) and start the queue and blob listeners."""
        for fn in self.triggered:
            try:
                self.listeners.append(self._listener(fn))
            except (StorageSettingError, BlobPathError) as exc:
                self.errors.append((f"{fn.name}: {fn.trigger_type}", str(exc)))
        for fn_name in self.bindings.by_function:
            for binding in self.bindings.by_function[fn_name]:
                try:
                    self.accounts.for_binding(binding_props(binding).get("connection"))
                except StorageSettingError as exc:
                    self.errors.append((f"{fn_name}: {binding.type} binding {binding.name!r}", str(exc)))
        unavailable: set[str] = set()
        for account in self.accounts.all():
            endpoints = local_endpoints(account.conn)
            if endpoints is None:
                continue
            try:
                running = await azurite.ensure_running(endpoints)
            except azurite.AzuriteUnavailable as exc:
                unavailable.add(account.conn)
                self.notes.append(f"Storage: {exc}")
                continue
            if running is not None:
                self.emulators.append(running)
                self.notes.append(f"Storage: started Azurite ({running.location})")
        for account, _, listener in self.listeners:
            if account.conn in unavailable:
                self.errors.append(
                    (f"{listener.name}: storage trigger", "its storage emulator is not running")
                )
            else:
                listener.start()

    async def stop(self) -> None:
        """Stop the listeners, close the clients, stop an Azurite this host started."""
        for _, _, listener in self.listeners:
            await listener.stop()
        await self.accounts.close()
        for emulator in self.emulators:
            await emulator.stop()

    def message_added(self, account: StorageAccount, queue: str) -> None:
        """An output binding added a message to ``queue``: wake its listeners."""
        for owner, name, listener in self.listeners:
            if owner is account and name == queue and isinstance(listener, QueueListener):
                listener.notify()

    def blob_written(self, account: StorageAccount, container: str) -> None:
        """An output binding wrote a blob to ``container``: wake its listeners."""
        for owner, name, listener in self.listeners:
            if owner is account and name == container and isinstance(listener, BlobListener):
                listener.notify()

    def banner(self) -> list[str]:
        """The startup listing's lines for queue and blob triggers and storage problems."""
        lines = []
        for _, name, listener in self.listeners:
            what = f"queue {name!r}" if isinstance(listener, QueueListener) else f"path in container {name!r}"
            kind = QUEUE_TRIGGER if isinstance(listener, QueueListener) else BLOB_TRIGGER
            lines.append(f"\t{listener.name}: {kind} ({what})")
        lines.extend(f"\t{what} NOT RUN: {reason}" for what, reason in self.errors)
        return [*lines, *self.notes, ""]
