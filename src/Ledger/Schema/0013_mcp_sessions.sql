-- MCP sessions a replica may resume (issue 21; README, "A fleet of replicas"): the initialize handshake of a
-- 2025-revision session, so a request with that Mcp-Session-Id on another replica (or after this one died)
-- continues it. Keyed by the sha256 of the session id (the id itself is never stored); `credential` is the
-- proof the session was opened with (`token:<sha256 of the token>` or `anonymous:<name>`) and must match on
-- every replica. Transport state, not ledger meaning: not audited (AuditedTables.Unaudited).
CREATE TABLE mcp_sessions (
    session_hash TEXT PRIMARY KEY,
    credential TEXT NOT NULL,
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    initialize TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE INDEX mcp_sessions_seen ON mcp_sessions (seen_at);
