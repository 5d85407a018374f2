"""The queue trigger: poll with randomized exponential backoff, run a batch, retry, poison.

Why: it follows ``QueueListener`` and ``QueueProcessor`` (Azure/azure-sdk-for-net sdk/storage/
Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/Queues/QueueListener.cs, QueueProcessor.cs):
messages are received ``batchSize`` at a time, invisible for 10 minutes (renewed at half-time while
the function runs); a new batch is fetched once no more than ``newBatchThreshold`` are in flight; an
empty poll backs off from 100 ms towards ``maxPollingInterval`` (``RandomizedExponentialBackoffStrategy``:
+/-20 % jitter, doubling), and a message this host writes to the queue wakes the listener at once
(``SharedQueueWatcher``). Success deletes the message; a failure makes it visible again after
``visibilityTimeout``, or, at ``maxDequeueCount`` dequeues, copies it to ``<queue>-poison`` and deletes it.
A message already dequeued more often than that (a crash mid-run) is poisoned before it runs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions import meta
from azure.storage.queue import QueueMessage

from durableagent.local.triggers.invocation import invoke_triggered
from durableagent.local.triggers.queue_options import MIN_POLLING, QueueOptions

if TYPE_CHECKING:
    from azure.storage.queue.aio import QueueClient

    from durableagent.local.host_context import HostContext

log = logging.getLogger("durableagent.local.triggers")
RECEIVE_VISIBILITY_S = 600  # QueueListener._visibilityTimeout
POISON_SUFFIX = "-poison"
STOP_TIMEOUT_S = 10.0


def poison_queue_name(queue: str) -> str | None:
    """``<queue>-poison``, or None for a poison queue itself or a name too long for the suffix."""
    if queue.endswith(POISON_SUFFIX) or len(queue) + len(POISON_SUFFIX) > 63:
        return None
    return queue + POISON_SUFFIX


class Backoff:
    """``RandomizedExponentialBackoffStrategy`` from 100 ms to the maximum polling interval."""

    def __init__(self, maximum: timedelta) -> None:
        """Start at the 100 ms minimum; ``maximum`` is the queue's ``maxPollingInterval``."""
        self.minimum, self.maximum = MIN_POLLING.total_seconds(), maximum.total_seconds()
        self.current, self.exponent = self.minimum, 0

    def next(self, found_messages: bool) -> float:
        """The delay before the next poll (the minimum again once a poll found messages)."""
        if found_messages:
            self.current, self.exponent = self.minimum, 1
        elif self.current != self.maximum:
            interval = self.minimum
            if self.exponent > 0:
                interval += random.uniform(0.8, 1.2) * 2 ** (self.exponent - 1) * self.minimum
            if interval < self.maximum:
                self.current, self.exponent = interval, self.exponent + 1
            else:
                self.current = self.maximum
        return self.current


def encode_body(body: bytes, options: QueueOptions) -> str:
    """A message body as this host writes it (base64 unless ``messageEncoding`` is ``none``)."""
    return base64.b64encode(body).decode() if options.base64 else body.decode("utf-8")


def _decode_body(content: str, options: QueueOptions) -> meta.Datum:
    raw = base64.b64decode(content, validate=True) if options.base64 else content.encode()
    try:
        return meta.Datum(raw.decode("utf-8"), "string")
    except UnicodeDecodeError:
        return meta.Datum(raw, "bytes")


def trigger_metadata(message: QueueMessage, body: meta.Datum) -> dict[str, meta.Datum]:
    """The queue trigger's binding data (``QueueTriggerBinding``) as the worker receives it."""

    def when(value: Any) -> meta.Datum | None:
        return None if value is None else meta.Datum(value.isoformat(), "string")

    data = {
        "QueueTrigger": body,
        "Id": meta.Datum(message.id, "string"),
        "PopReceipt": meta.Datum(message.pop_receipt, "string"),
        "DequeueCount": meta.Datum(int(message.dequeue_count or 0), "int"),
        "InsertionTime": when(message.inserted_on),
        "ExpirationTime": when(message.expires_on),
        "NextVisibleTime": when(message.next_visible_on),
    }
    return {k: v for k, v in data.items() if v is not None}


class QueueListener:
    """Runs one queue-triggered function until stopped."""

    def __init__(
        self,
        ctx: HostContext,
        function: Any,
        queue: QueueClient,
        poison: QueueClient | None,
        options: QueueOptions,
    ) -> None:
        """Poll ``queue``; messages that fail ``maxDequeueCount`` times move to ``poison``."""
        self.ctx, self.function, self.queue, self.poison, self.options = ctx, function, queue, poison, options
        self.name: str = function.get_function_name()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._processing: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling (a background task on the running loop)."""
        self._task = asyncio.create_task(self._run(), name=f"queue:{self.name}")

    def notify(self) -> None:
        """A message was added to the queue by this host: poll now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop polling; running messages get ``STOP_TIMEOUT_S``, then they are cancelled."""
        self._stopping.set()
        self._wake.set()
        tasks = [t for t in (self._task, *self._processing) if t is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
            for task in pending:
                task.cancel()  # unfinished messages become visible again after their visibility timeout

    async def _receive(self) -> list[QueueMessage]:
        pages = self.queue.receive_messages(
            messages_per_page=self.options.batch_size,
            max_messages=self.options.batch_size,
            visibility_timeout=RECEIVE_VISIBILITY_S,
        )
        return [message async for message in pages]

    async def _run(self) -> None:
        backoff = Backoff(self.options.max_polling_interval)
        found_since_delay = False
        while not self._stopping.is_set():
            try:
                batch = await self._receive()
            except ResourceNotFoundError:
                batch = []  # the queue does not exist yet: back off as for an empty queue
            except AzureError as exc:
                log.warning("queue trigger %s: polling failed (%s)", self.name, type(exc).__name__)
                batch = []
            if batch:
                for message in batch:
                    task = asyncio.create_task(self._process(message))
                    self._processing.add(task)
                    task.add_done_callback(self._processing.discard)
                found_since_delay = True
                while (
                    len(self._processing) > self.options.new_batch_threshold and not self._stopping.is_set()
                ):
                    await asyncio.wait(set(self._processing), return_when=asyncio.FIRST_COMPLETED)
                continue
            delay = backoff.next(found_since_delay)
            found_since_delay = False
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _process(self, message: QueueMessage) -> None:
        try:
            if int(message.dequeue_count or 0) > self.options.max_dequeue_count:
                if self.poison is not None:
                    await self._to_poison(message)
                return
            renewal = asyncio.create_task(self._keep_invisible(message))
            try:
                succeeded = await self._execute(message)
            finally:
                renewal.cancel()
            if succeeded:
                await self.queue.delete_message(message.id, message.pop_receipt)
            elif self.poison is None:
                pass  # no poison queue: stay invisible (no fast infinite loop), as QueueProcessor does
            elif int(message.dequeue_count or 0) >= self.options.max_dequeue_count:
                await self._to_poison(message)
            else:
                seconds = int(self.options.visibility_timeout.total_seconds())
                await self.queue.update_message(message.id, message.pop_receipt, visibility_timeout=seconds)
        except (ResourceNotFoundError, ResourceExistsError):
            pass  # the message or queue is gone, or another receiver owns it now
        except AzureError as exc:
            log.warning("queue trigger %s: completing a message failed (%s)", self.name, type(exc).__name__)

    async def _execute(self, message: QueueMessage) -> bool:
        try:
            body = _decode_body(str(message.content), self.options)
        except (binascii.Error, ValueError):
            log.error(
                "queue trigger %s: message %s is not base64 (see messageEncoding)", self.name, message.id
            )
            return False
        try:
            await invoke_triggered(self.ctx, self.function, body, trigger_metadata(message, body))
        except Exception as exc:  # noqa: BLE001 - the function failed: retried, then poisoned
            log.error(
                "queue function %s failed (%s); dequeue count %s",
                self.name,
                type(exc).__name__,
                message.dequeue_count,
            )
            return False
        return True

    async def _keep_invisible(self, message: QueueMessage) -> None:
        while True:
            await asyncio.sleep(RECEIVE_VISIBILITY_S / 2)
            updated = await self.queue.update_message(
                message.id, message.pop_receipt, visibility_timeout=RECEIVE_VISIBILITY_S
            )
            message.pop_receipt = updated.pop_receipt

    async def _to_poison(self, message: QueueMessage) -> None:
        if self.poison is None:
            return
        log.warning(
            "queue trigger %s: message %s reached maxDequeueCount %d; moved to %s",
            self.name,
            message.id,
            self.options.max_dequeue_count,
            self.poison.queue_name,
        )
        with contextlib.suppress(ResourceExistsError):
            await self.poison.create_queue()
        await self.poison.send_message(message.content)
        await self.queue.delete_message(message.id, message.pop_receipt)
