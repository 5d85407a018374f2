"""Double-texting (issue 14.6): what a run does when its session is busy (``multitask_strategy``).

* ``enqueue`` (default): the turn waits behind the session's queued and running turns, as before;
* ``reject``: ``409 session-busy`` with ``Retry-After`` while another turn is queued or running;
* ``interrupt``: every older queued or running turn is cancelled (``request_cancel``:
  a queued one never runs, a running one stops at its next safe point), then this one runs.

Every request first gets its row in the store's request ledger (``TurnControl.register_request``),
before its signal, so turns that wait synchronously are visible too. Busy means: a row *older*
than this request's own, for a request the entity has not answered yet. Comparing with the older
rows only makes concurrent requests agree: of 20 simultaneous ``reject`` requests the oldest runs
and the others are refused, of 20 ``interrupt`` requests the newest survives. A request that
already had its row (a retry of an accepted request, same ``Idempotency-Key``) is never refused
as busy and interrupts nothing: it is the same turn.

Limit: a host crash between a request's row and its signal leaves a row no turn will end; the
session then looks busy to ``reject`` until it is reset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from pydantic import MISSING

from durableagent.contract.problems import InvalidRequest
from durableagent.contract.turn_problems import SessionBusy
from durableagent.conversation.control import control_of
from durableagent.entity.cancel import deliver
from durableagent.entity.loop import run_async
from durableagent.entity.record import record_of
from durableagent.entity_client import EntityClient
from durableagent.http.edge import RouteContext

Strategy = Literal["enqueue", "reject", "interrupt"]
STRATEGIES: tuple[Strategy, ...] = ("enqueue", "reject", "interrupt")


def strategy_of(body_value: Any, query: Mapping[str, Any]) -> Strategy:
    """The body's ``multitask_strategy``, else the query parameter's (``text/plain``), else ``enqueue``."""
    value = getattr(body_value, "root", body_value)
    if value is None or value is MISSING:
        value = query.get("multitask_strategy") or "enqueue"
    if value not in STRATEGIES:
        raise InvalidRequest("multitask_strategy must be one of enqueue, reject, interrupt.")
    return cast(Strategy, value)


async def request_cancel(ctx: RouteContext, agent: str, session: str, request_id: str) -> bool:
    """Mark the request cancelled (durably) and stop it if it runs here; False if the store has no marks."""
    control = control_of(ctx.store())
    if control is None:
        return False
    await run_async(control.set_mark(agent, session, request_id, "cancel"))
    deliver(agent, session, request_id)
    return True


async def admit_and_signal(
    ctx: RouteContext,
    entities: EntityClient,
    agent: str,
    session: str,
    op_input: dict[str, Any],
    strategy: Strategy,
) -> None:
    """Register the request, apply ``strategy``, and signal its ``run_agent`` operation.

    A signal that fails (``429`` from a full queue, a store error) takes the request's new row
    back, so it never makes the session look busy.

    Raises:
        SessionBusy: ``reject`` while an older request of the session is unanswered.
    """
    request_id = str(op_input["correlationId"])
    control = control_of(ctx.store())
    new = control is not None and await run_async(control.register_request(agent, session, request_id))
    if new:
        await _apply(ctx, entities, agent, session, request_id, strategy)
    try:
        await entities.signal(agent, session, "run_agent", op_input)
    except BaseException:
        if new:
            await run_async(ctx.store().forget_request(agent, session, request_id))
        raise


async def _apply(
    ctx: RouteContext, entities: EntityClient, agent: str, session: str, request_id: str, strategy: Strategy
) -> None:
    store = ctx.store()
    control = control_of(store)
    if strategy == "enqueue" or control is None:
        return
    ids = await run_async(control.request_ids(agent, session))
    older = ids[: ids.index(request_id)] if request_id in ids else ids
    if not older:
        return
    record = record_of(await entities.read(agent, session))
    answered = record.requests if record is not None else {}  # any entry: its attempt has ended
    pending = [rid for rid in older if rid not in answered]
    if not pending:
        return
    if strategy == "reject":
        await run_async(store.forget_request(agent, session, request_id))
        raise SessionBusy("Another turn of this session is queued or running; retry later.", retry_after=1)
    for rid in pending:
        await request_cancel(ctx, agent, session, rid)
