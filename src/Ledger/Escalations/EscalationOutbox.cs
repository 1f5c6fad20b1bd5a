using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Escalations;

/// <summary>
/// Escalations not yet announced. Claiming stamps them in one short transaction, so with several
/// server processes each escalation is announced by exactly one of them.
/// </summary>
public sealed class EscalationOutbox(LedgerDatabase db)
{
    /// <summary>Claims every unannounced escalation. A read first, so the common case writes nothing.</summary>
    public async Task<IReadOnlyList<EscalationSummary>> ClaimAsync(CancellationToken ct = default)
    {
        if (
            (await db.QueryAsync<long>("SELECT id FROM escalations WHERE notified_at IS NULL LIMIT 1", ct: ct)).Any()
            is false
        )
            return [];
        return await db.WriteAsync(
            "server:notifier",
            async w =>
            {
                var pending = await w.QueryAsync<EscalationSummary>(
                    EscalationSummary.Select + " WHERE e.notified_at IS NULL ORDER BY e.id"
                );
                foreach (var item in pending)
                    await w.ExecuteAsync(
                        "UPDATE escalations SET notified_at = @now WHERE id = @id AND notified_at IS NULL",
                        SqlArgs.Of(new { now = w.NowText, id = item.Id })
                    );
                return pending;
            },
            ct
        );
    }
}
