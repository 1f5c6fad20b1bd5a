-- The fleet (issue 21; README, "Fleet"): every `factory serve --http` / `up` replica and every `factory worker`
-- registers here and writes a heartbeat on the ledger's clock. A process silent for three heartbeat periods is
-- lost (computed when read; its validation jobs come back through their own leases). Operational state only:
-- the row audit leaves it out (a heartbeat every few seconds would flood the chain and proves nothing).
CREATE TABLE fleet_processes (
    id                TEXT PRIMARY KEY,
    role              TEXT NOT NULL CHECK (role IN ('server', 'worker')),
    host              TEXT NOT NULL,
    pid               INTEGER NOT NULL,
    version           TEXT NOT NULL,
    validates         INTEGER NOT NULL,
    started_at        TEXT NOT NULL,
    last_heartbeat    TEXT NOT NULL,
    heartbeat_seconds INTEGER NOT NULL,
    jobs_running      INTEGER NOT NULL DEFAULT 0,
    jobs_done         INTEGER NOT NULL DEFAULT 0,
    stopped_at        TEXT
) STRICT;
CREATE INDEX fleet_processes_heartbeat ON fleet_processes (last_heartbeat);
