-- 0002: orchestration instances, their history, pending messages (incl. durable timers) and activity work.

-- One row per instance; the current execution only (ContinueAsNew replaces execution_id and input).
CREATE TABLE orch_instances (
    instance_id      TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    execution_id     TEXT NOT NULL,
    status           TEXT NOT NULL,   -- Pending | Running | Completed | ContinuedAsNew | Failed | Terminated | Suspended
    input            TEXT,            -- ExecutionStarted.Input: JSON text, or NULL
    output           TEXT,            -- JSON text, or the raw failure/termination message
    custom_status    TEXT,            -- JSON text, or NULL
    created_time     TEXT NOT NULL,   -- ISO 8601 UTC, fixed-width (sorts as text)
    last_updated     TEXT NOT NULL,
    parent_instance  TEXT,            -- sub-orchestrations: where to report the end
    parent_execution TEXT,
    parent_seq       INTEGER,
    engine_state     TEXT NOT NULL    -- replay bookkeeping (EngineState JSON)
) WITHOUT ROWID;
CREATE INDEX orch_instances_by_created ON orch_instances (created_time, instance_id);

-- The current execution's history events (DTFx JSON), in order.
CREATE TABLE orch_history (
    instance_id TEXT NOT NULL,
    position    INTEGER NOT NULL,
    event       TEXT NOT NULL,
    PRIMARY KEY (instance_id, position)
) WITHOUT ROWID;

-- Messages not yet consumed by an episode. A durable timer is a TimerFired message that becomes
-- visible at its fire time, so timers survive restarts with no separate re-arming state.
CREATE TABLE orch_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT NOT NULL,
    execution_id TEXT,               -- NULL: for whatever execution is current (events, control)
    kind         TEXT NOT NULL,      -- start | event | response | completion | terminate | suspend | resume
    event        TEXT,               -- the history event to deliver (JSON)
    reason       TEXT,               -- terminate/suspend/resume reason
    timer_seq    INTEGER,            -- TimerFired messages: the timer's sequence number
    visible_at   TEXT NOT NULL       -- ISO 8601 UTC; later than now for pending timers
);
CREATE INDEX orch_messages_by_instance ON orch_messages (instance_id, id);
CREATE INDEX orch_messages_by_time ON orch_messages (visible_at);

-- Activities scheduled and not yet answered (re-dispatched at startup: at-least-once).
CREATE TABLE orch_activities (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    input        TEXT,
    scheduled_at TEXT NOT NULL
);
CREATE INDEX orch_activities_by_instance ON orch_activities (instance_id);
