using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Telemetry;

/// <summary>
/// One figure of an agent's own usage telemetry, already attributed to a run: <see cref="Origin"/> is
/// <see cref="UsageLedger.Logs"/> (an event per model request, added up) or <see cref="UsageLedger.Metrics"/>
/// (a counter point; <see cref="Cumulative"/> ones keep the highest value of their <see cref="Series"/>).
/// </summary>
public sealed record UsagePoint
{
    public required long RunId { get; init; }
    public required string Origin { get; init; }
    public string Series { get; init; } = "";
    public required string Service { get; init; }
    public required string Model { get; init; }
    public long Input { get; init; }
    public long Output { get; init; }
    public long CacheRead { get; init; }
    public long CacheCreation { get; init; }
    public double Cost { get; init; }
    public bool Cumulative { get; init; }
}

/// <summary>A run's measured usage: from its agents' log events when there are any, else from their metrics.</summary>
public sealed record RunUsage
{
    public required long RunId { get; init; }
    public required string Origin { get; init; }
    public required long Input { get; init; }
    public required long Output { get; init; }
    public required long CacheRead { get; init; }
    public required long CacheCreation { get; init; }
    public required double CostUsd { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
    public required IReadOnlyList<string> Services { get; init; }
    public long Tokens => Input + Output + CacheRead + CacheCreation;
}

/// <summary>
/// The agents' token and cost telemetry per run (migration 0014, README "Telemetry"). Claude Code sends the same
/// usage both as log events and as metrics, so a run's figure is taken from one origin only, never summed across.
/// </summary>
public sealed class UsageLedger(LedgerDatabase db)
{
    public const string Logs = "log";
    public const string Metrics = "metric";

    public sealed record UsageRow
    {
        public required long RunId { get; init; }
        public required string Origin { get; init; }
        public required string Service { get; init; }
        public required string Model { get; init; }
        public required long Input { get; init; }
        public required long Output { get; init; }
        public required long CacheRead { get; init; }
        public required long CacheCreation { get; init; }
        public required double Cost { get; init; }
    }

    /// <summary>The ids among <paramref name="runIds"/> that name runs of this ledger.</summary>
    public async Task<IReadOnlySet<long>> KnownRunsAsync(
        IReadOnlyCollection<long> runIds,
        CancellationToken ct = default
    )
    {
        if (runIds.Count == 0)
            return new HashSet<long>();
        var ids = runIds.Distinct().ToArray();
        var found = await db.QueryAsync<long>(
            new Sql(
                Sqlite: "SELECT id FROM runs WHERE id IN @ids",
                PostgreSql: "SELECT id FROM runs WHERE id = ANY(@ids)"
            ),
            SqlArgs.Of(new { ids }),
            ct
        );
        return found.ToHashSet();
    }

    /// <summary>Adds the points in one transaction (delta and event figures add up; cumulative ones keep their highest value).</summary>
    public Task RecordAsync(IReadOnlyList<UsagePoint> points, CancellationToken ct = default)
    {
        const string add = """
            INSERT INTO run_usage (run_id, origin, series, service, model, input_tokens, output_tokens,
                cache_read_tokens, cache_creation_tokens, cost_usd, points, first_at, last_at)
            VALUES (@RunId, @Origin, @Series, @Service, @Model, @Input, @Output, @CacheRead, @CacheCreation, @Cost,
                @Points, @Now, @Now)
            ON CONFLICT (run_id, origin, series, service, model) DO UPDATE SET
                input_tokens = run_usage.input_tokens + excluded.input_tokens,
                output_tokens = run_usage.output_tokens + excluded.output_tokens,
                cache_read_tokens = run_usage.cache_read_tokens + excluded.cache_read_tokens,
                cache_creation_tokens = run_usage.cache_creation_tokens + excluded.cache_creation_tokens,
                cost_usd = run_usage.cost_usd + excluded.cost_usd,
                points = run_usage.points + excluded.points,
                last_at = excluded.last_at
            """;
        const string keepHighest = """
            INSERT INTO run_usage (run_id, origin, series, service, model, input_tokens, output_tokens,
                cache_read_tokens, cache_creation_tokens, cost_usd, points, first_at, last_at)
            VALUES (@RunId, @Origin, @Series, @Service, @Model, @Input, @Output, @CacheRead, @CacheCreation, @Cost,
                @Points, @Now, @Now)
            ON CONFLICT (run_id, origin, series, service, model) DO UPDATE SET
                input_tokens = CASE WHEN excluded.input_tokens > run_usage.input_tokens
                    THEN excluded.input_tokens ELSE run_usage.input_tokens END,
                output_tokens = CASE WHEN excluded.output_tokens > run_usage.output_tokens
                    THEN excluded.output_tokens ELSE run_usage.output_tokens END,
                cache_read_tokens = CASE WHEN excluded.cache_read_tokens > run_usage.cache_read_tokens
                    THEN excluded.cache_read_tokens ELSE run_usage.cache_read_tokens END,
                cache_creation_tokens = CASE WHEN excluded.cache_creation_tokens > run_usage.cache_creation_tokens
                    THEN excluded.cache_creation_tokens ELSE run_usage.cache_creation_tokens END,
                cost_usd = CASE WHEN excluded.cost_usd > run_usage.cost_usd
                    THEN excluded.cost_usd ELSE run_usage.cost_usd END,
                points = run_usage.points + excluded.points,
                last_at = excluded.last_at
            """;
        // Points of one key are folded first, so a batch of thousands is a handful of statements.
        var folded = points
            .GroupBy(p => (p.RunId, p.Origin, p.Series, p.Service, p.Model, p.Cumulative))
            .Select(g => new
            {
                g.Key.RunId,
                g.Key.Origin,
                g.Key.Series,
                g.Key.Service,
                g.Key.Model,
                g.Key.Cumulative,
                Input = g.Key.Cumulative ? g.Max(p => p.Input) : g.Sum(p => p.Input),
                Output = g.Key.Cumulative ? g.Max(p => p.Output) : g.Sum(p => p.Output),
                CacheRead = g.Key.Cumulative ? g.Max(p => p.CacheRead) : g.Sum(p => p.CacheRead),
                CacheCreation = g.Key.Cumulative ? g.Max(p => p.CacheCreation) : g.Sum(p => p.CacheCreation),
                Cost = g.Key.Cumulative ? g.Max(p => p.Cost) : g.Sum(p => p.Cost),
                Points = (long)g.Count(),
            })
            .ToList();
        return db.WriteAsync(
            "otlp",
            async w =>
            {
                foreach (var p in folded)
                    await w.ExecuteAsync(
                        p.Cumulative ? keepHighest : add,
                        SqlArgs.Of(
                            new
                            {
                                p.RunId,
                                p.Origin,
                                p.Series,
                                p.Service,
                                p.Model,
                                p.Input,
                                p.Output,
                                p.CacheRead,
                                p.CacheCreation,
                                p.Cost,
                                p.Points,
                                Now = w.NowText,
                            }
                        )
                    );
            },
            ct
        );
    }

    /// <summary>The measured usage of each run in <paramref name="runIds"/> that has any (null: every run).</summary>
    public async Task<IReadOnlyDictionary<long, RunUsage>> ForRunsAsync(
        IReadOnlyCollection<long>? runIds,
        CancellationToken ct = default
    )
    {
        const string sql = """
            SELECT run_id AS RunId, origin AS Origin, service AS Service, model AS Model,
                   CAST(SUM(input_tokens) AS BIGINT) AS Input, CAST(SUM(output_tokens) AS BIGINT) AS Output,
                   CAST(SUM(cache_read_tokens) AS BIGINT) AS CacheRead,
                   CAST(SUM(cache_creation_tokens) AS BIGINT) AS CacheCreation, SUM(cost_usd) AS Cost
            FROM run_usage {0}
            GROUP BY run_id, origin, service, model
            """;
        var ids = runIds?.Distinct().ToArray() ?? [];
        var rows = await db.QueryAsync<UsageRow>(
            runIds is null
                ? new Sql(string.Format(null, sql, ""), string.Format(null, sql, ""))
                : new Sql(
                    Sqlite: string.Format(null, sql, "WHERE run_id IN @ids"),
                    PostgreSql: string.Format(null, sql, "WHERE run_id = ANY(@ids)")
                ),
            SqlArgs.Of(new { ids }),
            ct
        );
        return Summarize(rows);
    }

    public async Task<RunUsage?> ForRunAsync(long runId, CancellationToken ct = default) =>
        (await ForRunsAsync([runId], ct)).GetValueOrDefault(runId);

    private static Dictionary<long, RunUsage> Summarize(IEnumerable<UsageRow> rows) =>
        rows.GroupBy(r => r.RunId)
            .ToDictionary(
                g => g.Key,
                g =>
                {
                    // Log events when the run has any (one per request: the finest figure), else metrics.
                    var origin = g.Any(r => r.Origin == Logs) ? Logs : Metrics;
                    var used = g.Where(r => r.Origin == origin).ToList();
                    return new RunUsage
                    {
                        RunId = g.Key,
                        Origin = origin,
                        Input = used.Sum(r => r.Input),
                        Output = used.Sum(r => r.Output),
                        CacheRead = used.Sum(r => r.CacheRead),
                        CacheCreation = used.Sum(r => r.CacheCreation),
                        CostUsd = Math.Round(used.Sum(r => r.Cost), 6),
                        Models = [.. used.Select(r => r.Model).Where(m => m.Length > 0).Distinct().Order()],
                        Services = [.. used.Select(r => r.Service).Distinct().Order()],
                    };
                }
            );
}
