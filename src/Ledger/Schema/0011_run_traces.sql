-- Telemetry (issue 16; README, "Telemetry"): the span id of a run's root span `invoke_agent {agent}`, stored
-- by the first process that traces the run, so every later span of the run (in any process, on any replica)
-- names it as parent. The trace id is not stored: it is derived from meta.ledger_id and the run id.
ALTER TABLE runs ADD COLUMN trace_span_id TEXT;
