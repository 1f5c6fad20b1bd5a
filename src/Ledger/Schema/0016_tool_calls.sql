-- Tool calls on a run (issue 16; README, "The run timeline"): one row per MCP tools/call that concerned a run,
-- drawn on the dashboard's run timeline. The tool's name, the caller, when it started on the ledger's clock, how
-- long it took and, for a refused call, the kind of error; never its arguments or result. Diagnostics, buffered
-- in memory and written in batches about every second (a crash may lose the last second of them): not
-- acknowledged writes, not ledger meaning, so outside the row audit (AuditedTables.Unaudited). At most the last
-- 2,000 per run are kept; `factory gc` deletes those of runs whose workspaces it removes.
CREATE TABLE tool_calls (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    tool        TEXT NOT NULL,
    agent       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    error       TEXT
) STRICT;
CREATE INDEX tool_calls_run ON tool_calls (run_id, id);
