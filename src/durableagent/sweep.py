"""The expiry sweep: a timer function that signals ``expire`` to every session whose TTL ran out.

Why a timer function: it runs unchanged on Azure (the Functions timer trigger, NCRONTAB schedule,
singleton across instances through its blob lease and schedule monitor) and on the local host
(``local/triggers/timers.py``, which keeps the schedule status across restarts). It reads only the
session index (``ConversationStore.expired_sessions``: a range of the expiry order, never a scan of
entities or transcripts) and signals each due session's entity; the entity decides (``entity.session``),
so a sweep that races a new turn, runs twice or dies half-way deletes nothing that is not idle, and
whatever it did not reach the next run finds again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import azure.functions as func

from durableagent.conversation.base import StoreUnavailableError, utc_now
from durableagent.entity.loop import run_async
from durableagent.entity_client import EntityClient
from durableagent.http.edge import RouteContext

logger = logging.getLogger("durableagent.sweep")
FUNCTION_NAME = "durableagent_session_expiry"
PER_AGENT = 500  # signals per agent and run; the rest wait for the next run


async def sweep(ctx: RouteContext, entities: EntityClient, now: str | None = None) -> int:
    """Signal ``expire`` to up to :data:`PER_AGENT` due sessions of each agent; returns how many."""
    now = now or utc_now()
    signalled = 0
    for registration in list(ctx.agents.values()):
        if registration.session_ttl is None:
            continue
        try:
            due = await run_async(ctx.store().expired_sessions(registration.name, now, PER_AGENT))
        except StoreUnavailableError:
            logger.warning("expiry sweep: the conversation store is unavailable; retried next run")
            return signalled
        for summary in due:
            await entities.signal(registration.name, summary.session, "expire", None)
            signalled += 1
    if signalled:
        logger.info("expiry sweep: signalled %d idle sessions", signalled)
    return signalled


def sweep_function(ctx: RouteContext) -> Callable[..., Awaitable[None]]:
    """The timer function of the app described by ``ctx`` (``client``: the durableClient binding)."""

    async def durableagent_session_expiry(
        timer: func.TimerRequest, client: str, context: func.Context
    ) -> None:
        await sweep(ctx, ctx.entities(client, context.invocation_id))

    return durableagent_session_expiry
