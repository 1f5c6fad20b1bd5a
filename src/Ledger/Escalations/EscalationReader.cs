using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Escalations;

/// <summary>Escalations waiting for a human's answer, for the dashboard and the CLI.</summary>
public sealed class EscalationReader(LedgerDatabase db)
{
    public async Task<IReadOnlyList<EscalationSummary>> ListOpenAsync(CancellationToken ct = default) =>
        (
            await db.QueryAsync<EscalationSummary>(
                EscalationSummary.Select + " WHERE e.answer IS NULL ORDER BY e.id",
                ct: ct
            )
        ).ToList();
}
