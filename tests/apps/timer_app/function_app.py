"""Timer triggers for the local host's timer tests: each invocation appends one JSON line to a file.

The files are named by app settings (``EVERY_SECOND_LOG``, ``MONITORED_LOG``, ``STARTUP_LOG``), so a
test observes invocations (time, ``past_due``, ``schedule_status``) instead of sleeping.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp()


def _record(setting: str, timer: func.TimerRequest) -> None:
    line = {
        "at": datetime.now(timezone.utc).isoformat(),
        "past_due": timer.past_due,
        "schedule_status": timer.schedule_status or None,
        "schedule": timer.schedule,
    }
    with open(os.environ[setting], "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


@app.timer_trigger(arg_name="timer", schedule="* * * * * *")
def every_second(timer: func.TimerRequest) -> None:
    _record("EVERY_SECOND_LOG", timer)


# The schedule comes from an app setting (%NAME%), as on Azure; the test chooses one that fires every
# second and that the host still monitors (a restricted day-of-week field).
@app.timer_trigger(arg_name="timer", schedule="%MONITORED_SCHEDULE%")
async def monitored(timer: func.TimerRequest) -> None:
    _record("MONITORED_LOG", timer)


@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *", run_on_startup=True, use_monitor=False)
def startup(timer: func.TimerRequest) -> None:
    _record("STARTUP_LOG", timer)


@app.timer_trigger(arg_name="timer", schedule="00:00:01")
def timespan(timer: func.TimerRequest) -> None:
    _record("TIMESPAN_LOG", timer)


# A timer that starts an orchestration through its durableClient binding, as timer-driven Durable
# apps do (the instance id comes from an app setting so the test can look it up).
@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *", run_on_startup=True, use_monitor=False)
@app.durable_client_input(client_name="client")
async def kick_off(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    await client.start_new("greet", instance_id=os.environ["KICKOFF_ID"], client_input="from a timer")


@app.orchestration_trigger(context_name="context")
def greet(context: df.DurableOrchestrationContext):  # type: ignore[no-untyped-def]
    return (yield context.call_activity("shout", context.get_input()))


@app.activity_trigger(input_name="text")
def shout(text: str) -> str:
    return text.upper()
