"""One call of the agent for a turn: history in, response out, callbacks on the way.

The agent is called exactly once per attempt. Streaming is used only when a callback wants
updates, and a streaming failure is a failed call: it is never retried as a second, non-streaming
call (that would run the model and its tools twice). Transient upstream failures are retried a
bounded number of times with backoff before the turn fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agent_framework import AgentResponse, AgentSession, HistoryProvider, Message, SupportsAgentRun

from durableagent.callbacks import AgentCallbackContext, AgentResponseCallbackProtocol
from durableagent.contract.problems import UpstreamUnavailable
from durableagent.entity.failures import classify
from durableagent.entity.history import SOURCE_ID, STATE_HISTORY, STATE_NEW, DurableHistoryProvider
from durableagent.tools import TURN_KWARG, ToolTurn

if TYPE_CHECKING:
    from durableagent.entity.registration import AgentRegistration

logger = logging.getLogger("durableagent.turn")


@dataclass(frozen=True)
class CallSettings:
    """Per-agent knobs of a turn."""

    timeout: float = 120.0
    transient_retries: int = 2
    retry_backoff: float = 0.5
    stream_retention: float = 600.0  # seconds a streamed turn's log is kept once it ended


class UpdateSink(Protocol):
    """Where a streamed turn's updates go (``entity/turn_stream.TurnStream``)."""

    async def update(self, update: Any) -> None:
        """Take one ``AgentResponseUpdate``."""
        ...

    def retrying(self) -> None:
        """The call is about to be retried: what was streamed so far is void."""
        ...


@dataclass
class CallResult:
    """One successful agent run: its response and the messages the turn adds to the history."""

    response: AgentResponse
    new_messages: list[Message] = field(default_factory=list)


def install_history_provider(agent: Any) -> bool:
    """Give ``agent`` our history provider unless it already loads history of its own.

    Returns whether the agent now takes its history from durableagent's transcript.
    """
    providers = getattr(agent, "context_providers", None)
    if not isinstance(providers, list):
        return False
    if any(isinstance(p, DurableHistoryProvider) for p in providers):
        return True
    if any(isinstance(p, HistoryProvider) and p.load_messages for p in providers):
        logger.info(
            "agent %s has its own history provider; durableagent will not inject one",
            getattr(agent, "name", "?"),
        )
        return False
    providers.append(DurableHistoryProvider())
    return True


async def _callback(callback: AgentResponseCallbackProtocol | None, method: str, *args: Any) -> None:
    fn = getattr(callback, method, None) if callback is not None else None
    if fn is None:
        return
    try:
        await fn(*args)
    except Exception as exc:  # noqa: BLE001 - a callback never fails the turn, whatever it raises
        logger.warning("callback %s failed (%s); ignored", method, type(exc).__name__)


async def _call_once(
    agent: SupportsAgentRun,
    user: Message,
    history: Sequence[Message],
    session_id: str,
    options: dict[str, Any],
    uses_provider: bool,
    callback: AgentResponseCallbackProtocol | None,
    context: AgentCallbackContext,
    sink: UpdateSink | None,
) -> CallResult:
    if uses_provider:
        session = AgentSession(session_id=session_id)
        state: dict[str, Any] = {STATE_HISTORY: history}
        session.state[SOURCE_ID] = state
        inputs: list[Message] = [user]
    else:
        session, state, inputs = None, {}, [*history, user]
    wants_updates = callback is not None and hasattr(callback, "on_streaming_response_update")
    streaming = wants_updates or sink is not None
    # Tools read the turn from their FunctionInvocationContext (durableagent.tools.idempotency_key).
    tool_kwargs = {TURN_KWARG: ToolTurn(context.agent_name, context.conversation_id, context.correlation_id)}
    if streaming:
        stream: Any = agent.run(  # type: ignore[call-overload]
            inputs, stream=True, session=session, options=options, function_invocation_kwargs=tool_kwargs
        )
        async for update in stream:
            if sink is not None:
                await sink.update(update)
            if wants_updates:
                await _callback(callback, "on_streaming_response_update", update, context)
        response: AgentResponse = await stream.get_final_response()
    else:
        response = await agent.run(  # type: ignore[call-overload]
            inputs, session=session, options=options, function_invocation_kwargs=tool_kwargs
        )
    new = list(state.get(STATE_NEW, ())) if uses_provider else [user, *response.messages]
    return CallResult(response=response, new_messages=new)


async def call_agent(
    reg: AgentRegistration,
    user: Message,
    history: Sequence[Message],
    session: str,
    options: dict[str, Any],
    context: AgentCallbackContext,
    sink: UpdateSink | None = None,
) -> CallResult:
    """Run ``reg``'s agent for one turn of ``session`` (its updates to ``sink`` when given).

    Raises the last failure after bounded retries of 503-like failures. Timeouts are not retried
    here: a turn that already waited ``reg.call.timeout`` fails with 504.
    """
    settings = reg.call
    attempt = 0
    while True:
        try:
            result = await asyncio.wait_for(
                _call_once(
                    reg.agent,
                    user,
                    history,
                    f"@{reg.name}@{session}",
                    options,
                    reg.uses_provider,
                    reg.callback,
                    context,
                    sink,
                ),
                settings.timeout,
            )
        except Exception as exc:
            if not isinstance(classify(exc), UpstreamUnavailable) or attempt >= settings.transient_retries:
                raise
            attempt += 1
            if sink is not None:
                sink.retrying()
            logger.warning(
                "transient model failure (%s) for %s; retry %d",
                type(exc).__name__,
                context.correlation_id,
                attempt,
            )
            await asyncio.sleep(settings.retry_backoff * 2 ** (attempt - 1))
            continue
        await _callback(reg.callback, "on_agent_response", result.response, context)
        return result
