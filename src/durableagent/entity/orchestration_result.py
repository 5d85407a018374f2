"""The result of a ``run_agent`` call made by an orchestration: the turn's whole ``AgentResponse``.

Why a second result shape: the HTTP route answers with the contract's ``RunResult`` (text or the
structured value); an orchestrator gets an Agent Framework ``AgentResponse`` (messages, usage,
``.value``). The ledger keeps the turn's outcome either way; this module reads the turn the ledger
entry points to back from the transcript, so a duplicate call (a replay, a redelivered message)
gets the same response as the first, without the agent running again.

Shape: ``{"correlationId", "sessionId", "status", "turn"?, "response"?, "value"?, "problem"?,
"retryable"?}``; ``response`` is ``AgentResponse.to_dict()`` of the turn, only for status 200.
"""

from __future__ import annotations

from typing import Any

from durableagent.contract.problems import InternalError
from durableagent.conversation.base import SessionRef
from durableagent.conversation.store_protocol import ConversationStore
from durableagent.entity.record import LedgerEntry, SessionRecord

ORCHESTRATION_KEY = "orchestration_id"  # in a run_agent input: the call is an orchestration's


async def agent_response_result(
    store: ConversationStore, record: SessionRecord, request_id: str, entry: LedgerEntry
) -> dict[str, Any]:
    """The orchestration's result for ``request_id``, whose outcome is ``entry``."""
    result: dict[str, Any] = {
        "correlationId": request_id,
        "sessionId": record.session,
        "status": entry.status,
    }
    if entry.turn is not None:
        result["turn"] = entry.turn
    if not entry.succeeded:
        result["problem"] = dict(entry.problem or {"status": entry.status})
        if entry.retryable:
            result["retryable"] = True
        return result
    turn = None
    if entry.turn is not None:
        turn = await store.get_turn(SessionRef(record.agent, record.session, record.incarnation), entry.turn)
    if turn is None or turn.request_id != request_id or turn.reply is None:
        missing = InternalError("The turn's reply is no longer in the conversation store.")
        return {**result, "status": missing.status, "problem": dict(missing.to_record())}
    result["response"] = turn.reply
    result["value"] = turn.value
    return result
