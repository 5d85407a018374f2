"""One call of the agent for a turn: what the model sees of the history, the call, callbacks on the way.

The agent is called exactly once per attempt. Streaming is used only when a callback wants
updates, and a streaming failure is a failed call: it is never retried as a second, non-streaming
call (that would run the model and its tools twice). Transient upstream failures are retried a
bounded number of times with backoff before the turn fails.

What the model sees (:class:`ContextPolicy`, :func:`model_context`): a long conversation outgrows
the model's context, and a turn whose input is the whole history costs O(history). An agent
registered with ``history_window=N`` (the last N turns) and/or ``history_token_budget=T`` (the
newest turns whose estimated tokens fit in T) gets only that part of the history; the stored
transcript and ``GET`` stay whole. The window is cut at turn boundaries (a turn's tool calls and
results stay together) from the indexes ``SessionHistory`` keeps, so building it costs O(window):
the turn's cost stays flat as the session grows. A reducer (``history_reducer=``) runs after the
window, on a copy of its messages (the cached history is never changed). It is Agent Framework's
own type for this, a ``agent_framework.CompactionStrategy`` (``SlidingWindowStrategy``,
``TruncationStrategy``, ``TokenBudgetComposedStrategy``, ``SummarizationStrategy``, or any async
callable that edits the list in place and returns whether it changed it), applied with
``agent_framework.apply_compaction`` (agent_framework/_compaction.py: annotate the groups, run the
strategy, project the included messages).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agent_framework import (
    AgentResponse,
    AgentResponseUpdate,
    AgentSession,
    CompactionStrategy,
    HistoryProvider,
    Message,
    SupportsAgentRun,
    apply_compaction,
)

from durableagent.callbacks import AgentCallbackContext, AgentResponseCallbackProtocol
from durableagent.contract.problems import UpstreamUnavailable
from durableagent.entity.failures import classify
from durableagent.entity.history import (
    SOURCE_ID,
    STATE_HISTORY,
    STATE_NEW,
    DurableHistoryProvider,
    SessionHistory,
)
from durableagent.entity.loop import CancelScope, TurnCancelledError
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


@dataclass(frozen=True)
class ContextPolicy:
    """Per agent: how much of the committed history goes into the model's context.

    Attributes:
        window: At most this many of the latest turns (None: every turn).
        token_budget: At most the latest turns whose estimated tokens (4 characters a token) add up
            to this (None: no budget). With both, the smaller part wins.
        reducer: Applied last, to a copy of the chosen messages.
    """

    window: int | None = None
    token_budget: int | None = None
    reducer: CompactionStrategy | None = None

    def __post_init__(self) -> None:
        """Refuse windows and budgets below 1 (``ValueError``); 0 would silently drop all history."""
        for name, value in (("history_window", self.window), ("history_token_budget", self.token_budget)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int or None")

    @property
    def whole(self) -> bool:
        """Whether the model sees the whole history (no window, budget or reducer)."""
        return self.window is None and self.token_budget is None and self.reducer is None


class UpdateSink(Protocol):
    """Where a streamed turn's updates go (``entity/turn_stream.TurnStream``)."""

    async def update(self, update: AgentResponseUpdate) -> None:
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


def install_history_provider(agent: SupportsAgentRun) -> bool:
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
    middleware: list[Any],
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
            inputs,
            stream=True,
            session=session,
            options=options,
            function_invocation_kwargs=tool_kwargs,
            middleware=middleware or None,
        )
        async for update in stream:
            if sink is not None:
                await sink.update(update)
            if wants_updates:
                await _callback(callback, "on_streaming_response_update", update, context)
        response: AgentResponse = await stream.get_final_response()
    else:
        response = await agent.run(  # type: ignore[call-overload]
            inputs,
            session=session,
            options=options,
            function_invocation_kwargs=tool_kwargs,
            middleware=middleware or None,
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
    scope: CancelScope | None = None,
) -> CallResult:
    """Run ``reg``'s agent for one turn of ``session``.

    Its updates go to ``sink`` when given; ``scope`` can stop it (``entity/loop.py``).

    Raises the last failure after bounded retries of 503-like failures. Timeouts are not retried
    here: a turn that already waited ``reg.call.timeout`` fails with 504. A cancel raises
    ``TurnCancelledError`` and is never retried.
    """
    settings = reg.call
    attempt = 0
    while True:
        try:
            call = _call_once(
                reg.agent,
                user,
                history,
                f"@{reg.name}@{session}",
                options,
                reg.uses_provider,
                reg.callback,
                context,
                sink,
                scope.middleware() if scope is not None else [],
            )
            result = await asyncio.wait_for(scope.run(call) if scope is not None else call, settings.timeout)
        except Exception as exc:
            if (
                isinstance(exc, TurnCancelledError)
                or not isinstance(classify(exc), UpstreamUnavailable)
                or attempt >= settings.transient_retries
            ):
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


def first_turn_kept(history: SessionHistory, policy: ContextPolicy) -> int:
    """Index (into ``history.starts``) of the oldest turn the policy keeps; walks back O(kept turns)."""
    turns = len(history.starts)
    first = 0 if policy.window is None else max(0, turns - policy.window)
    if policy.token_budget is not None:
        spent, index = 0, turns
        while index > first and spent + history.tokens[index - 1] <= policy.token_budget:
            index -= 1
            spent += history.tokens[index]
        first = index
    return first


def windowed(history: SessionHistory, policy: ContextPolicy) -> SessionHistory:
    """The messages of the kept turns, as a ``SessionHistory`` (same messages, no copies)."""
    first = first_turn_kept(history, policy)
    if first == 0:
        return history
    start = history.starts[first] if first < len(history.starts) else len(history)
    view = SessionHistory(history[start:])
    view.approval_controls = history.approval_controls
    return view


async def model_context(history: SessionHistory, policy: ContextPolicy) -> Sequence[Message]:
    """The history the model gets for the next turn under ``policy``."""
    if policy.whole:
        return history
    view = windowed(history, policy)
    reducer = policy.reducer
    if reducer is None:
        return view
    messages = [copy.deepcopy(m) for m in view]  # compaction annotates messages in place
    return await apply_compaction(messages, strategy=reducer)
