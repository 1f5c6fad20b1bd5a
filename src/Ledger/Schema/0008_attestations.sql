-- Signed attestations of accepted PR_READY runs (issue 17; README, "Attestations"): an in-toto Statement in a DSSE
-- envelope, signed with the factory's ECDSA P-256 key, which lives outside the ledger. One per accepted run.
CREATE TABLE attestations (
    run_id     INTEGER PRIMARY KEY REFERENCES runs (id),
    head_sha   TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    envelope   TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX attestations_head ON attestations (head_sha);
