-- 0001: host keys, durable entities and their mailboxes.

-- Keys the host generated for this store (system key, and master/host keys when not configured).
CREATE TABLE host_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Committed entity state, one row per existing entity. A missing row means "does not exist".
-- entity_id is '@<name lower-cased>@<key>' (the Durable scheduler id).
CREATE TABLE entities (
    entity_id      TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    key            TEXT NOT NULL,
    state          TEXT,            -- the entityState JSON text the function returned
    last_operation TEXT NOT NULL    -- ISO 8601 UTC time of the last committed batch
) WITHOUT ROWID;
CREATE INDEX entities_by_name ON entities (name, entity_id);

-- Operations waiting for their entity, in arrival order (seq never reused: AUTOINCREMENT).
-- A batch's rows are deleted in the same transaction that commits the batch's state.
CREATE TABLE entity_mailbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id       TEXT NOT NULL,
    operation       TEXT NOT NULL,
    input           TEXT,              -- JSON text of the operation input, or NULL
    is_signal       INTEGER NOT NULL CHECK (is_signal IN (0, 1)),
    request_id      TEXT NOT NULL,     -- GUID of the request (the orchestration's, for calls)
    parent_instance TEXT,              -- orchestration instance that awaits the result (calls only)
    enqueued_at     TEXT NOT NULL
);
CREATE INDEX entity_mailbox_by_entity ON entity_mailbox (entity_id, seq);
