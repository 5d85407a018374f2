"""The Durable entity function of an agent: adapts ``DurableEntityContext`` to ``SessionEntity.handle``.

The SDK calls entity functions synchronously on a worker thread, once per operation of a batch;
this adapter runs the async operation on the process-wide agent loop and blocks until it is done.
It is the only place where the Durable entity context and the session logic meet.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import azure.durable_functions as df

from durableagent.entity.loop import run_sync
from durableagent.entity.operations import DELETE, SessionEntity

logger = logging.getLogger("durableagent.entity")


def _operation_input(context: df.DurableEntityContext) -> Any:
    """The operation's input; ``None`` when it has none.

    The SDK's ``get_input`` raises on a missing input (a client ``signal_entity`` with a falsy
    input sends none), so read the raw value first.
    """
    raw = getattr(context, "_input", None)
    if raw is None or raw == "null":
        return None
    try:
        return context.get_input()
    except (TypeError, ValueError, json.JSONDecodeError):
        return None


def make_entity_function(entity: Callable[[], SessionEntity]) -> Callable[[df.DurableEntityContext], None]:
    """The function registered with ``entity_trigger`` for one agent."""

    def agent_entity(context: df.DurableEntityContext) -> None:
        session_entity = entity()
        operation = context.operation_name
        state = context.get_state(lambda: None)
        new_state, result = run_sync(
            session_entity.handle(operation, _operation_input(context), state, context.entity_key)
        )
        context.set_result(result)
        if new_state is DELETE:
            context.destruct_on_exit()
        else:
            context.set_state(new_state)

    return agent_entity
