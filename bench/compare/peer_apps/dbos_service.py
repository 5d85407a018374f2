"""The DBOS peer: one workflow per turn (history read, model step, history write), the system
database and the history table on SQLite, served by FastAPI + uvicorn (scripts/bench --compare).

As DBOS's template does: DBOS launched from the FastAPI lifespan, a datasource for the
application's own table; async throughout (async workflow, step and datasource), as an app that
waits seconds on a model would be written. Routes:

* ``POST /sessions/{session}/turn`` ``{"message"}``: runs the workflow, answers its result.
* ``POST /sessions/{session}/turn/async`` (``Idempotency-Key`` = workflow id): enqueues the turn
  on a queue partitioned by session (one turn of a session at a time), answers 202.
* ``GET /turns/{workflow_id}``: 200 with the result once done, 202 before, 404 if unknown.
* ``GET /health``.

Environment: ``DBOS_BENCH_DIR`` (where the two SQLite files go), ``PORT``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from dbos import DBOS, AsyncSQLAlchemyDatasource, DBOSConfig, SetEnqueueOptions, SetWorkflowID
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from offline_echo import respond
from pydantic import BaseModel
from sqlalchemy import text

DATA = os.environ.get("DBOS_BENCH_DIR", ".")
HISTORY_DDL = (
    "CREATE TABLE IF NOT EXISTS history (session TEXT NOT NULL, seq INTEGER NOT NULL, "
    "role TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (session, seq))"
)


class Store:
    """The application's datasource, created in the lifespan (its factory is a coroutine)."""

    ds: AsyncSQLAlchemyDatasource


class TurnIn(BaseModel):
    message: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    Store.ds = await AsyncSQLAlchemyDatasource.create(f"sqlite+aiosqlite:///{DATA}/history.sqlite")
    async with Store.ds.engine.begin() as conn:
        await conn.execute(text(HISTORY_DDL))
    DBOS.launch()
    await DBOS.register_queue_async("turns", partition_concurrency=1)
    try:
        yield
    finally:
        DBOS.destroy()


app = FastAPI(lifespan=lifespan)
config: DBOSConfig = {"name": "bench-peer", "system_database_url": f"sqlite:///{DATA}/dbos.sqlite"}
DBOS(config=config)


async def _load(session: str) -> list[dict[str, Any]]:
    rows = await Store.ds.sql_session().execute(
        text("SELECT role, text FROM history WHERE session = :s ORDER BY seq"), {"s": session}
    )
    return [{"role": role, "text": body} for role, body in rows]


async def _append(session: str, start: int, message: str, reply: str) -> int:
    insert = text("INSERT INTO history (session, seq, role, text) VALUES (:s, :q, :r, :t)")
    await Store.ds.sql_session().execute(
        insert,
        [
            {"s": session, "q": start, "r": "user", "t": message},
            {"s": session, "q": start + 1, "r": "assistant", "t": reply},
        ],
    )
    return start + 2


@DBOS.step()
async def call_model(history: list[dict[str, Any]], message: str) -> str:
    return await respond(history, message)


@DBOS.workflow()
async def turn(session: str, message: str) -> dict[str, Any]:
    history = await Store.ds.run_tx_step_async({"name": "load_history"}, _load, session)
    reply = await call_model(history, message)
    count = await Store.ds.run_tx_step_async(
        {"name": "append_turn"}, _append, session, len(history), message, reply
    )
    return {"response": reply, "message_count": count}


@app.post("/sessions/{session}/turn")
async def post_turn(session: str, body: TurnIn) -> dict[str, Any]:
    return await turn(session, body.message)


@app.post("/sessions/{session}/turn/async", status_code=202)
async def submit_turn(session: str, body: TurnIn, idempotency_key: str = Header()) -> dict[str, str]:
    queue = await DBOS.retrieve_queue_async("turns")
    with SetWorkflowID(idempotency_key), SetEnqueueOptions(queue_partition_key=session):
        handle = await queue.enqueue_async(turn, session, body.message)
    return {"workflow_id": handle.workflow_id}


@app.get("/turns/{workflow_id}")
async def get_turn(workflow_id: str) -> Any:
    status = await DBOS.get_workflow_status_async(workflow_id)
    if status is None:
        return JSONResponse({"status": "unknown"}, status_code=404)
    if status.status == "SUCCESS":
        return status.output
    return JSONResponse({"status": status.status}, status_code=202)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "healthy"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
