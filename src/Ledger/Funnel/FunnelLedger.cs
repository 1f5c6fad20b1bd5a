using System.Text.Json;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Funnel;

/// <summary>Computes the funnel from the ledger alone (reads only).</summary>
public sealed class FunnelLedger(LedgerDatabase db)
{
    public static readonly TimeSpan UtilizationWindow = TimeSpan.FromDays(7);

    public async Task<FunnelReport> ReportAsync(CancellationToken ct = default)
    {
        var figures = await db.ReadAsync(c => FiguresAsync(c, ct));
        return db.Environment == "live"
            ? new FunnelReport { Environment = "live", Live = figures }
            : new FunnelReport { Environment = db.Environment, Test = figures };
    }

    private async Task<FunnelFigures> FiguresAsync(System.Data.Common.DbConnection c, CancellationToken ct)
    {
        async Task<long> Count(string sql) =>
            await c.ExecuteScalarAsync<long>(sql, SqlArgs.Of(new { environment = db.Environment }), ct: ct);
        var environment = db.Environment;
        var steps = new List<FunnelStep>
        {
            new("signals", await Count("SELECT count(*) FROM signals")),
            new("spec", await Count("SELECT count(*) FROM tasks WHERE line = 'spec'")),
            new("proposed", await Count("SELECT count(*) FROM tasks WHERE line <> 'spec'")),
            new(
                "approved",
                await Count("SELECT count(*) FROM tasks WHERE line <> 'spec' AND approved_version IS NOT NULL")
            ),
            new(
                "claimed",
                await Count(
                    "SELECT count(DISTINCT r.task_id) FROM runs r JOIN tasks t ON t.id = r.task_id WHERE t.line <> 'spec' AND r.kind = 'build'"
                )
            ),
            new("pr_ready", await Count("SELECT count(DISTINCT task_id) FROM runs WHERE accepted_at IS NOT NULL")),
            new("verified", await Count("SELECT count(DISTINCT entity_id) FROM audit WHERE action = 'task.verified'")),
            new(
                "reviewed",
                await Count(
                    "SELECT count(DISTINCT r.task_id) FROM reviews v JOIN runs r ON r.id = v.run_id WHERE v.outcome = 'approve'"
                )
            ),
            new("shipped", await Count("SELECT count(*) FROM shipped_events WHERE environment = @environment")),
            new(
                "drafted",
                await Count(
                    "SELECT count(DISTINCT d.event_id) FROM drafts d JOIN shipped_events e ON e.id = d.event_id WHERE e.environment = @environment"
                )
            ),
        };
        var claimed = steps.Single(s => s.Name == "claimed").Count;
        var prReady = steps.Single(s => s.Name == "pr_ready").Count;
        var runs = await Count("SELECT count(*) FROM runs WHERE kind = 'build'");
        var specClosed = await Count(
            "SELECT count(*) FROM tasks WHERE line = 'spec' AND state IN ('specced', 'no_op')"
        );
        double? Rate(long part, long whole) => whole == 0 ? null : Math.Round((double)part / whole, 4);

        var medians = new Dictionary<string, double?>
        {
            ["proposed_to_approved"] = Median(
                await c.QueryAsync<double>(
                    """
                    SELECT (julianday(a.at) - julianday(t.created_at)) * 1440 FROM tasks t
                    JOIN audit a ON a.entity = 'task' AND a.entity_id = t.id AND a.action = 'task.approved'
                    WHERE t.line <> 'spec'
                    """,
                    ct: ct
                )
            ),
            // The spec stage: from the spec job's creation to the proposal its agent wrote.
            ["spec_to_proposed"] = Median(
                await c.QueryAsync<double>(
                    """
                    SELECT (julianday(p.created_at) - julianday(min(s.created_at))) * 1440 FROM tasks p
                    JOIN tasks s ON s.signal_id = p.signal_id AND s.line = 'spec' AND s.id < p.id
                    WHERE p.line <> 'spec' GROUP BY p.id
                    """,
                    ct: ct
                )
            ),
            ["approved_to_claimed"] = Median(
                await c.QueryAsync<double>(
                    """
                    SELECT (julianday(min(r.opened_at)) - julianday(min(a.at))) * 1440 FROM tasks t
                    JOIN audit a ON a.entity = 'task' AND a.entity_id = t.id AND a.action = 'task.approved'
                    JOIN runs r ON r.task_id = t.id GROUP BY t.id
                    """,
                    ct: ct
                )
            ),
            ["claimed_to_pr_ready"] = Median(
                await c.QueryAsync<double>(
                    "SELECT (julianday(accepted_at) - julianday(opened_at)) * 1440 FROM runs WHERE accepted_at IS NOT NULL",
                    ct: ct
                )
            ),
            ["pr_ready_to_reviewed"] = Median(
                await c.QueryAsync<double>(
                    """
                    SELECT (julianday(v.created_at) - julianday(r.accepted_at)) * 1440 FROM reviews v JOIN runs r ON r.id = v.run_id WHERE r.accepted_at IS NOT NULL
                    """,
                    ct: ct
                )
            ),
            ["reviewed_to_shipped"] = Median(
                await c.QueryAsync<double>(
                    """
                    SELECT (julianday(e.shipped_at) - julianday(max(v.created_at))) * 1440 FROM shipped_events e JOIN reviews v ON v.run_id = e.run_id GROUP BY e.id
                    """,
                    ct: ct
                )
            ),
        };
        foreach (var stage in new[] { "scout", "build", "verify", "package", "review" })
        {
            medians["stage_" + stage] = Median(
                await c.QueryAsync<double>(
                    """
                    SELECT (julianday(COALESCE((SELECT min(n.at) FROM stages n WHERE n.run_id = s.run_id AND n.id > s.id), r.closed_at)) - julianday(s.at)) * 1440
                    FROM stages s JOIN runs r ON r.id = s.run_id
                    WHERE s.stage = @stage AND r.kind = 'build' AND COALESCE((SELECT min(n.at) FROM stages n WHERE n.run_id = s.run_id AND n.id > s.id), r.closed_at) IS NOT NULL
                    """,
                    SqlArgs.Of(new { stage }),
                    ct: ct
                )
            );
        }

        var signalToApproved = Median(
            await c.QueryAsync<double>(
                """
                SELECT (julianday(a.at) - julianday(s.received_at)) * 1440 FROM tasks t
                JOIN signals s ON s.id = t.signal_id
                JOIN audit a ON a.entity = 'task' AND a.entity_id = t.id AND a.action = 'task.approved'
                WHERE t.line <> 'spec'
                """,
                ct: ct
            )
        );

        var now = db.Now;
        var since = Iso.Text(now - UtilizationWindow);
        var agentRows = await c.QueryAsync<(string Agent, long Runs, double Minutes)>(
            """
            SELECT a.name, count(r.id),
                   COALESCE(sum((julianday(COALESCE(r.closed_at, @now)) - julianday(CASE WHEN r.opened_at > @since THEN r.opened_at ELSE @since END)) * 1440), 0)
            FROM agents a LEFT JOIN runs r ON r.agent_id = a.id AND COALESCE(r.closed_at, @now) >= @since
            WHERE a.role = 'agent' AND a.revoked_at IS NULL
            GROUP BY a.id ORDER BY a.name
            """,
            SqlArgs.Of(new { now = Iso.Text(now), since }),
            ct: ct
        );
        var window = UtilizationWindow.TotalMinutes;
        var agents = agentRows
            .Select(r => new AgentUtilization(
                r.Agent,
                r.Runs,
                Math.Round(r.Minutes, 1),
                Math.Round(Math.Min(1, r.Minutes / window), 4)
            ))
            .ToList();

        var (costPerShipped, unit, costSource) = await CostPerShippedAsync(
            c,
            environment,
            steps.Single(s => s.Name == "shipped").Count,
            ct
        );
        var liveEvents = await Count("SELECT count(*) FROM shipped_events WHERE environment = 'live'");
        var bridged = await Count(
            "SELECT count(*) FROM shipped_events e WHERE e.environment = 'live' AND (SELECT count(DISTINCT kind) FROM drafts d WHERE d.event_id = e.id) = 3"
        );
        var ownEvents = await Count("SELECT count(*) FROM shipped_events WHERE environment = @environment");
        var ownBridged = await Count(
            "SELECT count(*) FROM shipped_events e WHERE e.environment = @environment AND (SELECT count(DISTINCT kind) FROM drafts d WHERE d.event_id = e.id) = 3"
        );

        return new FunnelFigures
        {
            Steps = steps,
            // Rates are of build work (claimed counts build tasks); spec jobs have their own figures.
            NoOpRate = Rate(
                await Count(
                    "SELECT count(DISTINCT task_id) FROM runs WHERE kind = 'build' AND (state = 'no_op' OR terminal_state = 'no_op')"
                ),
                claimed
            ),
            EscalationRate = Rate(
                await Count(
                    "SELECT count(DISTINCT e.task_id) FROM escalations e JOIN tasks t ON t.id = e.task_id WHERE t.line <> 'spec'"
                ),
                claimed
            ),
            SpecProposedRate = Rate(
                await Count("SELECT count(*) FROM tasks WHERE line = 'spec' AND state = 'specced'"),
                specClosed
            ),
            SpecDismissedRate = Rate(
                await Count("SELECT count(*) FROM tasks WHERE line = 'spec' AND state = 'no_op'"),
                specClosed
            ),
            RetryRate = Rate(
                await Count("SELECT count(*) FROM runs WHERE kind = 'build' AND state IN ('failed', 'expired')"),
                runs
            ),
            ReworkRate = Rate(await Count("SELECT count(*) FROM tasks WHERE reworks > 0"), prReady),
            MedianMinutes = medians,
            SignalToApprovedMedianMinutes = signalToApproved,
            Agents = agents,
            CostPerShippedChange = costPerShipped,
            CostUnit = unit,
            CostSource = costSource,
            LiveEventBridgeCoverage = environment == "live" ? Rate(bridged, liveEvents) : null,
            EventBridgeCoverage = Rate(ownBridged, ownEvents),
        };
    }

    /// <summary>
    /// Cost per shipped change: the usage the agents' telemetry measured on shipped tasks' runs (money, else
    /// tokens) when there is any; otherwise the sum of their <c>cost</c> evidence (money if stated, else tokens,
    /// else seconds). The third value says which source was used.
    /// </summary>
    private static async Task<(double?, string, string)> CostPerShippedAsync(
        System.Data.Common.DbConnection c,
        string environment,
        long shipped,
        CancellationToken ct
    )
    {
        if (shipped == 0)
            return (null, "none", "none");
        var measured = (
            await c.QueryAsync<(long RunId, string Origin, double Cost, long Tokens)>(
                """
                SELECT u.run_id AS RunId, u.origin AS Origin, SUM(u.cost_usd) AS Cost,
                       CAST(SUM(u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_creation_tokens) AS BIGINT) AS Tokens
                FROM run_usage u JOIN runs r ON r.id = u.run_id
                WHERE r.task_id IN (SELECT task_id FROM shipped_events WHERE environment = @environment)
                GROUP BY u.run_id, u.origin
                """,
                SqlArgs.Of(new { environment }),
                ct: ct
            )
        )
            // A run's figure comes from its log events when it has any, else its metrics (UsageLedger).
            .GroupBy(m => m.RunId)
            .Select(g => g.Any(m => m.Origin == "log") ? g.First(m => m.Origin == "log") : g.First())
            .ToList();
        var measuredMoney = measured.Sum(m => m.Cost);
        var measuredTokens = measured.Sum(m => m.Tokens);
        if (measuredMoney > 0)
            return (Math.Round(measuredMoney / shipped, 4), "money", "measured");
        if (measuredTokens > 0)
            return (Math.Round((double)measuredTokens / shipped, 1), "tokens", "measured");

        var contents = await c.QueryAsync<string>(
            """
            SELECT ev.content FROM evidence ev JOIN runs r ON r.id = ev.run_id
            WHERE ev.kind = 'cost' AND ev.content IS NOT NULL
              AND r.task_id IN (SELECT task_id FROM shipped_events WHERE environment = @environment)
            """,
            SqlArgs.Of(new { environment }),
            ct: ct
        );
        double money = 0,
            tokens = 0,
            seconds = 0;
        foreach (var content in contents)
        {
            try
            {
                using var doc = JsonDocument.Parse(content);
                if (doc.RootElement.TryGetProperty("money", out var m) && m.TryGetDouble(out var mv))
                    money += mv;
                if (doc.RootElement.TryGetProperty("tokens", out var t) && t.TryGetDouble(out var tv))
                    tokens += tv;
                if (doc.RootElement.TryGetProperty("seconds", out var s) && s.TryGetDouble(out var sv))
                    seconds += sv;
            }
            catch (JsonException)
            {
                // Cost evidence that is not JSON carries no figure.
            }
        }
        return money > 0 ? (Math.Round(money / shipped, 4), "money", "evidence")
            : tokens > 0 ? (Math.Round(tokens / shipped, 1), "tokens", "evidence")
            : seconds > 0 ? (Math.Round(seconds / shipped, 1), "seconds", "evidence")
            : (null, "none", "none");
    }

    private static double? Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToList();
        if (sorted.Count == 0)
            return null;
        var mid = sorted.Count / 2;
        var median = sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return Math.Round(median, 2);
    }
}
