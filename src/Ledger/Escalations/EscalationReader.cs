using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Escalations;

/// <summary>Escalations waiting for a human's answer, for the dashboard and the CLI.</summary>
public sealed class EscalationReader(LedgerDatabase db)
{
    public sealed record Open
    {
        public required long Id { get; init; }
        public required long TaskId { get; init; }
        public long? RunId { get; init; }
        public required string Title { get; init; }
        public required string Question { get; init; }
        public required string RaisedBy { get; init; }
        public required DateTimeOffset RaisedAt { get; init; }
    }

    public async Task<IReadOnlyList<Open>> ListOpenAsync(CancellationToken ct = default) =>
        (await db.QueryAsync<Open>("""
            SELECT e.id AS Id, e.task_id AS TaskId, e.run_id AS RunId, t.title AS Title, e.question AS Question,
                   e.raised_by AS RaisedBy, e.raised_at AS RaisedAt
            FROM escalations e JOIN tasks t ON t.id = e.task_id
            WHERE e.answer IS NULL ORDER BY e.id
            """, ct: ct)).ToList();
}
