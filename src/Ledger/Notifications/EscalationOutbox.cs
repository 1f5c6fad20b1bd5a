using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Notifications;

/// <summary>
/// Escalations not yet announced. Claiming stamps them in one short transaction, so with several
/// server processes each escalation is announced by exactly one of them.
/// </summary>
public sealed class EscalationOutbox(LedgerDatabase db)
{
    public sealed record Pending
    {
        public required long Id { get; init; }
        public required long TaskId { get; init; }
        public long? RunId { get; init; }
        public required string Question { get; init; }
        public required string RaisedBy { get; init; }
        public required DateTimeOffset RaisedAt { get; init; }
        public required string Title { get; init; }
    }

    private const string Select = """
        SELECT e.id AS Id, e.task_id AS TaskId, e.run_id AS RunId, e.question AS Question, e.raised_by AS RaisedBy,
               e.raised_at AS RaisedAt, t.title AS Title
        FROM escalations e JOIN tasks t ON t.id = e.task_id
        WHERE e.notified_at IS NULL
        """;

    /// <summary>Claims every unannounced escalation. A read first, so the common case writes nothing.</summary>
    public async Task<IReadOnlyList<Pending>> ClaimAsync(CancellationToken ct = default)
    {
        if ((await db.QueryAsync<long>("SELECT id FROM escalations WHERE notified_at IS NULL LIMIT 1", ct: ct)).Any() is false) return [];
        return await db.WriteAsync("server:notifier", async w =>
        {
            var pending = await w.QueryAsync<Pending>(Select + " ORDER BY e.id");
            foreach (var item in pending)
                await w.ExecuteAsync("UPDATE escalations SET notified_at = @now WHERE id = @id AND notified_at IS NULL", new { now = w.NowText, id = item.Id });
            return pending;
        }, ct);
    }
}
