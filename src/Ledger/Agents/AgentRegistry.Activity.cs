using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Agents;

public sealed partial class AgentRegistry
{
    private sealed record RunSpan
    {
        public required long AgentId { get; init; }
        public required DateTimeOffset OpenedAt { get; init; }
        public DateTimeOffset? ClosedAt { get; init; }
    }

    /// <summary>
    /// Every registered agent with its pools, open runs, and busy time and utilization over the last
    /// <paramref name="window"/>. A read: nothing is written.
    /// </summary>
    public async Task<IReadOnlyList<AgentActivity>> ActivityAsync(TimeSpan window, CancellationToken ct = default)
    {
        if (window <= TimeSpan.Zero)
            throw new LedgerException("The window must be longer than zero (for example 24h).");
        var now = db.Now;
        var since = now - window;
        var agents = await ListAsync(ct);
        var pools = (
            await db.QueryAsync<(long AgentId, string Pool)>(
                "SELECT agent_id, pool FROM pool_members ORDER BY pool",
                ct: ct
            )
        ).ToLookup(p => p.AgentId, p => p.Pool);
        var open = (
            await db.QueryAsync<(long AgentId, long Count)>(
                "SELECT agent_id, count(*) FROM runs WHERE state IN ('open', 'validating') GROUP BY agent_id",
                ct: ct
            )
        ).ToDictionary(r => r.AgentId, r => r.Count);
        const string spansSql = """
            SELECT agent_id AS AgentId, opened_at AS OpenedAt, closed_at AS ClosedAt
            FROM runs
            WHERE opened_at < @now AND (closed_at IS NULL OR closed_at > @since)
            ORDER BY agent_id, opened_at
            """;
        var spans = (
            await db.QueryAsync<RunSpan>(spansSql, SqlArgs.Of(new { now = Iso.Text(now), since = Iso.Text(since) }), ct)
        ).ToLookup(s => s.AgentId);

        return agents
            .Select(agent =>
            {
                var mine = spans[agent.Id].ToList();
                var openRuns = open.GetValueOrDefault(agent.Id);
                var status =
                    agent.RevokedAt is not null ? AgentActivity.RevokedStatus
                    : openRuns > 0 ? AgentActivity.BusyStatus
                    : agent.LastSeenAt is { } seen && seen >= since ? AgentActivity.IdleStatus
                    : AgentActivity.AwayStatus;
                return new AgentActivity
                {
                    Agent = agent,
                    Pools = pools[agent.Id].ToList(),
                    OpenRuns = openRuns,
                    RunsInWindow = mine.Count,
                    Busy = Union(mine, since, now),
                    Window = window,
                    Status = status,
                };
            })
            .ToList();
    }

    /// <summary>The length of the union of run intervals, clipped to [since, now].</summary>
    private static TimeSpan Union(IReadOnlyList<RunSpan> spans, DateTimeOffset since, DateTimeOffset now)
    {
        var total = TimeSpan.Zero;
        DateTimeOffset? start = null,
            end = null;
        foreach (var span in spans)
        {
            var s = span.OpenedAt < since ? since : span.OpenedAt;
            var e = span.ClosedAt is { } closed && closed < now ? closed : now;
            if (e <= s)
                continue;
            if (end is { } currentEnd && s <= currentEnd)
            {
                if (e > currentEnd)
                    end = e;
                continue;
            }
            if (start is { } a && end is { } b)
                total += b - a;
            (start, end) = (s, e);
        }
        if (start is { } x && end is { } y)
            total += y - x;
        return total;
    }
}
