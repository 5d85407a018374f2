"""The orchestrator trigger's wire format, both directions (one import for the engine and tests).

History events and the trigger request are in ``orchestration_events``; the SDK's answer and its
flattened actions are in ``orchestration_actions``.
"""

from durableagent.local.wire import orchestration_actions as _actions
from durableagent.local.wire import orchestration_events as _events
from durableagent.local.wire.orchestration_actions import *  # noqa: F403 - this module is the union of both
from durableagent.local.wire.orchestration_events import *  # noqa: F403

__all__ = sorted(
    name
    for module in (_events, _actions)
    for name in vars(module)
    if not name.startswith("_")
    and getattr(vars(module)[name], "__module__", module.__name__) == module.__name__
)
