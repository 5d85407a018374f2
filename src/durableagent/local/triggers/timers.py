"""The timer trigger: one listener per timer function, with run-on-startup and the schedule monitor.

Why: it behaves as ``TimerListener`` (Azure/azure-webjobs-sdk-extensions
src/WebJobs.Extensions/Extensions/Timers/Listener/TimerListener.cs): at start a monitored timer checks
whether it is past due (then it fires once, at once, with ``IsPastDue``), else ``runOnStartup`` fires it
once; afterwards it waits for the next occurrence, invokes, and records ``Last``/``Next``/``LastUpdated``
(``Last`` is the scheduled occurrence when the timer fired a little early). Invocations of one timer
never overlap: the next occurrence is computed after the previous invocation ended, so a long run
skips the occurrences it covered. The function gets the ``TimerInfo`` JSON the worker passes
(``{"Schedule": {"AdjustForDST": …}, "ScheduleStatus": {…} | null, "IsPastDue": …}``); the status is
only there for monitored timers, as in ``InvokeJobFunction``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from azure.functions import meta

from durableagent.local.triggers import schedule_monitor
from durableagent.local.triggers.invocation import binding_props, flag, invoke_triggered
from durableagent.local.triggers.schedule_monitor import ScheduleStatus
from durableagent.local.triggers.schedules import CronSchedule, Schedule

if TYPE_CHECKING:
    from durableagent.local.host_context import HostContext

log = logging.getLogger("durableagent.local.triggers")
STOP_TIMEOUT_S = 10.0


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class TimerListener:
    """Runs one timer function until stopped."""

    def __init__(self, ctx: HostContext, function: Any, schedule: Schedule) -> None:
        """Read ``runOnStartup`` and ``useMonitor`` (off for schedules firing more than once a minute)."""
        props = binding_props(function.get_trigger())
        self.ctx = ctx
        self.function = function
        self.name: str = function.get_function_name()
        self.schedule = schedule
        self.run_on_startup = flag(props.get("runOnStartup"), False)
        requested_monitor = flag(props.get("useMonitor"), True)
        self.use_monitor = requested_monitor and not schedule.fires_more_than_once_a_minute(utc_now())
        self.status = ScheduleStatus(None, None, None)
        self.startup: str | None = None  # "past due" | "run on startup"
        self.invocations = 0
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def prepare(self) -> None:
        """Read and check the schedule status (the start of ``TimerListener.StartAsync``)."""
        now = utc_now()
        past_due = False
        if self.use_monitor:
            stored = await self.ctx.store.read(lambda conn: schedule_monitor.load(conn, self.name))
            duration, status, changed = schedule_monitor.check_past_due(self.schedule, stored, now)
            if changed:
                await self.ctx.store.write(lambda conn: schedule_monitor.save(conn, self.name, status))
            self.status, past_due = status, duration.total_seconds() > 0
        else:
            self.status = ScheduleStatus(None, self.schedule.next_after(now), None)
        if past_due:
            self.startup = "past due"
        elif self.run_on_startup:
            self.startup = "run on startup"

    def start(self) -> None:
        """Start the timer loop (a background task on the running loop)."""
        self._task = asyncio.create_task(self._run(), name=f"timer:{self.name}")

    async def stop(self) -> None:
        """Stop waiting; a running invocation gets ``STOP_TIMEOUT_S`` to finish, then it is cancelled."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(self._task, STOP_TIMEOUT_S)

    async def _run(self) -> None:
        if self.startup is not None:
            await self._invoke(utc_now(), past_due=self.startup == "past due", unscheduled=True)
        while not self._stopping.is_set():
            target = self.status.next
            if target is None:  # the schedule has no further occurrence
                await self._stopping.wait()
                return
            delay = (target - utc_now()).total_seconds()
            if delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                continue  # re-check: stopped, or the (possibly early) wake-up time
            await self._invoke(utc_now(), past_due=False, unscheduled=False)

    def timer_json(self, past_due: bool) -> str:
        """The ``TimerInfo`` JSON the worker passes to the function (``func.TimerRequest``)."""
        return json.dumps(
            {
                "Schedule": {"AdjustForDST": isinstance(self.schedule, CronSchedule)},
                "ScheduleStatus": self.status.to_json() if self.use_monitor else None,
                "IsPastDue": past_due,
            }
        )

    async def _invoke(self, invoked_at: datetime, *, past_due: bool, unscheduled: bool) -> None:
        self.invocations += 1
        try:
            await invoke_triggered(self.ctx, self.function, meta.Datum(self.timer_json(past_due), "json"))
        except Exception as exc:  # noqa: BLE001 - the function failed: logged, the schedule goes on
            log.error("timer function %s failed (%s)", self.name, type(exc).__name__)
        occurrence = invoked_at
        if not unscheduled and self.status.next is not None and self.status.next > invoked_at:
            occurrence = self.status.next
        status = ScheduleStatus(occurrence, self.schedule.next_after(occurrence), occurrence)
        self.status = status
        if self.use_monitor:
            await self.ctx.store.write(lambda conn: schedule_monitor.save(conn, self.name, status))
