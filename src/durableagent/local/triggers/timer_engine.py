"""Wire the app's timer functions into the host: parse schedules, start and stop listeners, banner lines.

Why: schedules are parsed once at startup (an invalid one is reported for its function, as the host
reports an indexing error, and the rest of the app runs); the schedule status is read before the
banner prints, so each timer is listed with its real next occurrence.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from durableagent.local.indexing import TIMER_TRIGGER
from durableagent.local.triggers.invocation import binding_props, drop_missing_inputs
from durableagent.local.triggers.schedules import ScheduleError, create
from durableagent.local.triggers.timers import TimerListener

if TYPE_CHECKING:
    from durableagent.local.host_context import HostContext

log = logging.getLogger("durableagent.local.triggers")


class TimerEngine:
    """The timer side of ``local/triggers``: one listener per timer function."""

    def __init__(self, ctx: HostContext) -> None:
        """No listeners yet; :meth:`install` creates them."""
        self.ctx = ctx
        self.listeners: list[TimerListener] = []
        self.errors: list[tuple[str, str]] = []  # (function, reason)

    def install(self) -> None:
        """Parse every timer's schedule and hook the listeners into the host."""
        timers = [f for f in self.ctx.index.listeners if f.trigger_type == TIMER_TRIGGER]
        if not timers:
            return
        for fn in timers:
            props = binding_props(fn.function.get_trigger())
            try:
                schedule = create(str(props.get("schedule") or ""))
            except ScheduleError as exc:
                self.errors.append((fn.name, str(exc)))
                continue
            self.listeners.append(TimerListener(self.ctx, fn.function, schedule))
        drop_missing_inputs(self.ctx, {(fn.name, fn.function.get_trigger().name) for fn in timers})
        self.ctx.served_triggers.add(TIMER_TRIGGER)
        self.ctx.on_start.append(self.start)
        self.ctx.on_stop.append(self.stop)
        self.ctx.banner_lines.append(self.banner)

    async def start(self) -> None:
        """Check each timer's schedule status, then start the listeners."""
        for listener in self.listeners:
            await listener.prepare()
        for listener in self.listeners:
            listener.start()

    async def stop(self) -> None:
        """Stop every timer listener."""
        for listener in self.listeners:
            await listener.stop()

    def banner(self) -> list[str]:
        """The startup listing's timer lines (schedule, next occurrence, startup run)."""
        lines = []
        for t in self.listeners:
            nxt = t.status.next.isoformat() if t.status.next is not None else "never"
            extra = f", {t.startup} now" if t.startup else ""
            monitor = "" if t.use_monitor else ", not monitored"
            lines.append(f"\t{t.name}: timerTrigger ({t.schedule.describe()}, next {nxt}{extra}{monitor})")
        for name, reason in self.errors:
            lines.append(f"\t{name}: timerTrigger NOT RUN: {reason}")
        return [*lines, ""]
