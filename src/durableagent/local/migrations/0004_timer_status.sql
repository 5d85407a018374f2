-- 0004: the schedule status of monitored timer triggers (the host's ScheduleMonitor records).

-- One row per timer function: the last occurrence it ran for, the next one it expects, and when the
-- row was written (ISO 8601 UTC; NULL is .NET's default(DateTime), "never"). A restart that finds
-- next < now fires the function once with isPastDue = true.
CREATE TABLE timer_status (
    function_name TEXT PRIMARY KEY,
    last          TEXT,
    next          TEXT,
    last_updated  TEXT
) WITHOUT ROWID;
