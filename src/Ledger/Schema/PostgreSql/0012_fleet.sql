-- The fleet (issue 21; README, "Fleet"): every `factory serve --http` / `up` replica and every `factory worker`
-- registers here and writes a heartbeat on the ledger's clock. A process silent for three heartbeat periods is
-- lost (computed when read; its validation jobs come back through their own leases). Operational state only:
-- the row audit leaves it out (a heartbeat every few seconds would flood the chain and proves nothing).
CREATE TABLE fleet_processes (
    id                TEXT COLLATE "C" PRIMARY KEY,
    role              TEXT COLLATE "C" NOT NULL CHECK (role IN ('server', 'worker')),
    host              TEXT COLLATE "C" NOT NULL,
    pid               BIGINT NOT NULL,
    version           TEXT COLLATE "C" NOT NULL,
    validates         BIGINT NOT NULL,
    started_at        TEXT COLLATE "C" NOT NULL,
    last_heartbeat    TEXT COLLATE "C" NOT NULL,
    heartbeat_seconds BIGINT NOT NULL,
    jobs_running      BIGINT NOT NULL DEFAULT 0,
    jobs_done         BIGINT NOT NULL DEFAULT 0,
    stopped_at        TEXT COLLATE "C"
);
CREATE INDEX fleet_processes_heartbeat ON fleet_processes (last_heartbeat);
