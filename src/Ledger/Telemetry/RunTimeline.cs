using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Telemetry;

/// <summary>
/// One thing that happened in a run: a bar from Start to End, or a tick when End equals Start; <see cref="Refused"/>
/// marks a tool call the factory refused.
/// </summary>
public sealed record TimelineEntry(
    string Kind,
    string Label,
    DateTimeOffset Start,
    DateTimeOffset End,
    bool Refused = false
)
{
    public TimeSpan Duration => End - Start;
}

/// <summary>
/// A run's timeline, read from the rows the bundle and the trace come from: the run's lease (opened_at to
/// closed_at, or to now while live), its stages, evidence, declarations, validation jobs (queued, running,
/// decided), the MCP tool calls on it (tool_calls: started_at to started_at + duration_ms), the gate's commands for the run's base and head commits (validation_cache: created_at − duration_ms
/// to created_at; commands cached before the run opened are not part of it), verdicts, reviews and shipping.
/// Ordered by start time, then by the order the rows were read. Labels are agent-written text: render them escaped.
/// </summary>
public sealed class RunTimeline(LedgerDatabase db)
{
    private sealed record Row
    {
        public required string Kind { get; init; }
        public required string Label { get; init; }
        public required DateTimeOffset StartAt { get; init; }
        public DateTimeOffset? EndAt { get; init; }
        public required long DurationMs { get; init; }
        public long Refused { get; init; }
    }

    public async Task<IReadOnlyList<TimelineEntry>> ForRunAsync(long runId, CancellationToken ct = default)
    {
        const string sql = """
            SELECT 'run' AS Kind, 'run ' || state AS Label, opened_at AS StartAt, closed_at AS EndAt, 0 AS DurationMs,
                   0 AS Refused
              FROM runs WHERE id = @runId
            UNION ALL
            SELECT 'stage', 'stage ' || stage, at, NULL, 0, 0 FROM stages WHERE run_id = @runId
            UNION ALL
            SELECT 'evidence', '[' || origin || '] ' || kind || ': ' || summary, created_at, NULL, 0, 0
              FROM evidence WHERE run_id = @runId
            UNION ALL
            SELECT 'declaration', 'declared ' || state || ' → ' || outcome || ': ' || summary, created_at, NULL, 0, 0
              FROM declarations WHERE run_id = @runId
            UNION ALL
            SELECT 'validation', 'validation ' || declared_state || ' queued', created_at, started_at, 0, 0
              FROM validation_jobs WHERE run_id = @runId
            UNION ALL
            SELECT 'validation', 'validation ' || declared_state || ' running → ' || state, started_at, finished_at, 0, 0
              FROM validation_jobs WHERE run_id = @runId AND started_at IS NOT NULL
            UNION ALL
            SELECT 'command', 'exit ' || c.exit_code || ': ' || c.command, c.created_at, c.created_at, c.duration_ms, 0
              FROM validation_cache c
             WHERE c.subject IN (SELECT head_sha FROM validation_jobs WHERE run_id = @runId AND head_sha IS NOT NULL
                                 UNION SELECT base_sha FROM validation_jobs WHERE run_id = @runId)
               AND c.created_at >= (SELECT opened_at FROM runs WHERE id = @runId)
            UNION ALL
            SELECT 'verdict', 'verdict ' || role || ': ' || verdict, created_at, NULL, 0, 0
              FROM verdicts WHERE run_id = @runId
            UNION ALL
            SELECT 'review', 'review ' || outcome || ' by ' || reviewer, created_at, NULL, 0, 0
              FROM reviews WHERE run_id = @runId
            UNION ALL
            SELECT 'shipped', 'shipped ' || environment || ' at ' || sha, shipped_at, NULL, 0, 0
              FROM shipped_events WHERE run_id = @runId
            UNION ALL
            SELECT 'tool', 'tools/call ' || tool || ' by ' || agent
                   || CASE WHEN error IS NULL THEN '' ELSE ' refused (' || error || ')' END,
                   started_at, NULL, duration_ms, CASE WHEN error IS NULL THEN 0 ELSE 1 END
              FROM tool_calls WHERE run_id = @runId
            """;
        var rows = (await db.QueryAsync<Row>(sql, SqlArgs.Of(new { runId }), ct)).ToList();
        if (rows.Count == 0)
            throw new LedgerException($"Run {runId} does not exist; list runs with get_task or the dashboard.");
        var now = db.Time.GetUtcNow();
        var entries = rows.Select(r =>
                r.Kind switch
                {
                    // A command's row is stamped when it finished; it started duration_ms earlier.
                    "command" => new TimelineEntry(
                        r.Kind,
                        r.Label,
                        r.StartAt.AddMilliseconds(-r.DurationMs),
                        r.StartAt
                    ),
                    // A tool call's row holds when it started and how long it took.
                    "tool" => new TimelineEntry(
                        r.Kind,
                        r.Label,
                        r.StartAt,
                        r.StartAt.AddMilliseconds(r.DurationMs),
                        r.Refused != 0
                    ),
                    // A bar with no end yet (a live run, a job still queued or running) reaches now.
                    "run" or "validation" => new TimelineEntry(
                        r.Kind,
                        r.Label,
                        r.StartAt,
                        Max(r.StartAt, r.EndAt ?? now)
                    ),
                    _ => new TimelineEntry(r.Kind, r.Label, r.StartAt, r.StartAt),
                }
            )
            .Select((e, i) => (e, i))
            .OrderBy(p => p.e.Start)
            .ThenBy(p => p.i)
            .Select(p => p.e)
            .ToList();
        return entries;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
