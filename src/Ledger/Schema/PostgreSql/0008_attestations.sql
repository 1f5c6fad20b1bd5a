-- Signed attestations of accepted PR_READY runs (issue 17; README, "Attestations"): an in-toto Statement in a DSSE
-- envelope, signed with the factory's ECDSA P-256 key, which lives outside the ledger. One per accepted run.
CREATE TABLE attestations (
    run_id     BIGINT PRIMARY KEY REFERENCES runs (id),
    head_sha   TEXT COLLATE "C" NOT NULL,
    key_id     TEXT COLLATE "C" NOT NULL,
    envelope   TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX attestations_head ON attestations (head_sha);
