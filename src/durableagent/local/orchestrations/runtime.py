"""The running orchestration engine: episodes, activities and durable timers on the host's loop.

Why: the pure core decides; this module makes it happen on one machine with the guarantees of
protocol.md §8: one episode per instance at a time (a drain task per instance, like the entity
engine's mailboxes), every episode committed in one transaction before its work starts, activities
at-least-once (their rows stay until their result is committed, and are re-dispatched at start),
and timers that are just messages visible at their fire time (a crash loses nothing to re-arm).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone

from azure.functions import meta

from durableagent.local.entity_batches import EntityCallResult
from durableagent.local.host_context import HostContext
from durableagent.local.orchestrations import batching, durable_http, endings, tables, versioning, work
from durableagent.local.orchestrations.catalog import Catalog
from durableagent.local.orchestrations.commit import Effects, commit_outcome
from durableagent.local.orchestrations.episode import InvocationFailed, complete, prepare
from durableagent.local.orchestrations.model import InstanceSnapshot, Message, MessageKind
from durableagent.local.wire import orchestration_json as wire

log = logging.getLogger("durableagent.local.orchestrations")
_RETRY_DELAY_S = 1.0
_MAX_TIMER_SLEEP_S = 30.0


def utc_datetime_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class OrchestrationEngine:
    """Runs the app's orchestrations: one drain task per instance, activities, and the timer loop."""

    def __init__(self, ctx: HostContext) -> None:
        """Bind to the host in ``ctx``; nothing runs until :meth:`start` or :meth:`wake`."""
        self.ctx = ctx
        self.store = ctx.store
        index = ctx.index
        self.catalog = Catalog.of(
            [f.durable_name for f in index.activities.values()],
            [f.durable_name for f in index.orchestrators.values()],
            [f.durable_name for f in index.entities.values()],
        )
        self._active: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._activities: dict[int, asyncio.Task[None]] = {}
        self._timer_task: asyncio.Task[None] | None = None
        self._timer_wakeup = asyncio.Event()
        self._stopping = False

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Re-dispatch unanswered activities and wake every instance with due messages."""
        for row in await self.store.read(work.pending_activities):
            self._dispatch_activity(row)
        self._timer_task = asyncio.get_running_loop().create_task(
            self._timer_loop(), name="orchestration timers"
        )

    async def stop(self, timeout: float) -> None:
        """Start nothing new; give running episodes and activities ``timeout`` s (the rest redeliver)."""
        self._stopping = True
        if self._timer_task is not None:
            self._timer_task.cancel()
        tasks = [*self._active.values(), *self._activities.values()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)

    def wake(self, instance_id: str) -> None:
        """Run episodes for ``instance_id`` until it has nothing left to consume (call after a commit)."""
        if self._stopping:
            return
        if instance_id in self._active:
            self._dirty.add(instance_id)
            return
        loop = asyncio.get_running_loop()
        self._active[instance_id] = loop.create_task(
            self._drain(instance_id), name=f"orchestration {instance_id}"
        )

    def timers_changed(self) -> None:
        """Wake the timer loop to rescan now: a committed episode added timers."""
        self._timer_wakeup.set()

    # -- episodes ---------------------------------------------------------------------------------

    async def _drain(self, instance_id: str) -> None:
        try:
            while not self._stopping:
                self._dirty.discard(instance_id)
                try:
                    progressed = await self._episode(instance_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("orchestration %s: episode could not be committed; retrying", instance_id)
                    await asyncio.sleep(_RETRY_DELAY_S)
                    continue
                if not progressed and instance_id not in self._dirty:
                    return
        finally:
            self._active.pop(instance_id, None)

    async def _episode(self, instance_id: str) -> bool:
        now = utc_datetime_now()
        stamp = wire.format_time(now)

        def load(conn: sqlite3.Connection) -> tuple[InstanceSnapshot | None, list[Message]]:
            snap = tables.snapshot(conn, instance_id)
            return snap, tables.ready_messages(conn, instance_id, stamp) if snap is not None else []

        snap, messages = await self.store.read(load)
        if snap is None:
            return False
        batch = batching.select(snap.status, snap.execution_id, snap.state, messages)
        if not batch.take and not batch.drop:
            return False
        prepared = prepare(snap, batch, now=now)
        out = prepared.out
        if prepared.request is not None:
            verdict = versioning.check(snap.version, self.ctx.settings.versioning)
            if not verdict.run and verdict.fail_message is None:  # Reject: leave it to a compatible host
                log.warning("orchestration %s: version %r not run by this host", instance_id, snap.version)
                return False
            if verdict.fail_message is not None:
                out = endings.fail(snap, out, verdict.fail_message, prepared.at)
            else:
                answer = await self._invoke_orchestrator(snap.name, prepared.request)
                out = complete(prepared, answer, catalog=self.catalog, new_id=lambda: str(uuid.uuid4()))
            versioning.settle_child_versions(out.children, self.ctx.settings.versioning)
        effects = await self.store.write(lambda conn: commit_outcome(conn, snap, out, now))
        if effects is not None:
            self.apply(effects)
        return True

    async def _invoke_orchestrator(self, name: str, request: str) -> str | InvocationFailed:
        function = self.ctx.index.orchestrators.get(name.lower())
        if function is None:
            return InvocationFailed(f"The function '{name}' is not an orchestrator function of this app.")
        plan = self.ctx.plans[function.name]
        trigger = function.function.get_trigger().name
        try:
            datum = await self.ctx.invoker.invoke(plan, {trigger: meta.Datum(request, "string")})
        except Exception as exc:  # noqa: BLE001 - the orchestrator raised: its message carries the SDK state
            return InvocationFailed(str(exc))
        if datum is None or not isinstance(datum.value, str):
            return InvocationFailed("The orchestrator function returned no result.")
        return datum.value

    def apply(self, effects: Effects) -> None:
        """Set committed work in motion (episodes, activities, entity batches, timers)."""
        for entity in effects.wake_entities:
            self.ctx.entities.wake(entity)
        for row in effects.activities:
            self._dispatch_activity(row)
        for instance_id in effects.wake_instances:
            self.wake(instance_id)
        if effects.timers_changed:
            self.timers_changed()

    # -- activities -------------------------------------------------------------------------------

    def _dispatch_activity(self, row: work.ActivityRow) -> None:
        if self._stopping or row.id in self._activities:
            return
        task = asyncio.get_running_loop().create_task(self._run_activity(row), name=f"activity {row.name}")
        self._activities[row.id] = task
        task.add_done_callback(lambda _t: self._activities.pop(row.id, None))

    async def _run_activity(self, row: work.ActivityRow) -> None:
        function = self.ctx.index.activities.get(row.name.lower())
        event: wire.HistoryEvent | None
        if row.name == durable_http.ACTIVITY_NAME:
            event = await durable_http.perform(self.store, row, lambda: self._stopping)
            if event is None:
                return  # stopped mid-poll: the row (now the poll request) is redelivered at start
        elif function is None:
            reason = f"The function '{row.name}' doesn't exist, is disabled, or is not an activity function."
            event = wire.task_failed(utc_datetime_now(), row.seq, reason, "")
        else:
            plan = self.ctx.plans[function.name]
            trigger = function.function.get_trigger().name
            datum_in = meta.Datum(row.input if row.input is not None else "null", "json")
            try:
                datum = await self.ctx.invoker.invoke(plan, {trigger: datum_in})
                result = datum.value if datum is not None and isinstance(datum.value, str) else "null"
                event = wire.task_completed(utc_datetime_now(), row.seq, result)
            except Exception as exc:  # noqa: BLE001 - a failing activity is a TaskFailed for the orchestrator
                reason = f"Activity function '{row.name}' failed: {type(exc).__name__}: {exc}"
                event = wire.task_failed(utc_datetime_now(), row.seq, reason, "")
        stamp = wire.format_time(utc_datetime_now())
        try:
            delivered = await self.store.write(lambda conn: work.finish_activity(conn, row, event, stamp))
        except Exception:
            log.exception("activity %s of %s: result could not be committed", row.name, row.instance_id)
            return
        if delivered:
            self.wake(row.instance_id)

    # -- timers -----------------------------------------------------------------------------------

    async def _timer_loop(self) -> None:
        after = ""
        while not self._stopping:
            self._timer_wakeup.clear()
            now = wire.format_time(utc_datetime_now())
            try:
                due = await self.store.read(functools.partial(_due, after=after, until=now))
                upcoming = await self.store.read(functools.partial(_upcoming, after=now))
            except Exception:
                log.exception("orchestration timers: scan failed")
                await asyncio.sleep(_RETRY_DELAY_S)
                continue
            after = now
            for instance_id in due:
                self.wake(instance_id)
            sleep = _MAX_TIMER_SLEEP_S
            if upcoming is not None:
                sleep = min(sleep, max(0.0, (wire.parse_time(upcoming) - utc_datetime_now()).total_seconds()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._timer_wakeup.wait(), timeout=sleep)

    # -- entity call results (entity_batches.CallResultSink) ----------------------------------------

    def write(self, conn: sqlite3.Connection, results: Sequence[EntityCallResult]) -> None:
        """Deliver entity call results as EventRaised(request id) inside the entity batch's transaction."""
        now = utc_datetime_now()
        for result in results:
            row = tables.get_instance(conn, result.instance_id)
            if row is None or row.status.is_terminal:
                continue
            event = wire.event_raised(now, result.request_id, result.payload)
            tables.post(
                conn, result.instance_id, MessageKind.RESPONSE, visible_at=wire.format_time(now), event=event
            )

    def committed(self, results: Sequence[EntityCallResult]) -> None:
        """Wake the instances whose entity call results were just committed."""
        for result in results:
            self.wake(result.instance_id)


def _due(conn: sqlite3.Connection, *, after: str, until: str) -> list[str]:
    return work.due_instances(conn, after, until)


def _upcoming(conn: sqlite3.Connection, *, after: str) -> str | None:
    return work.next_due(conn, after)
