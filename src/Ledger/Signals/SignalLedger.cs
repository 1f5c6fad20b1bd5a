using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Signals;

/// <summary>Signals, deduplicated on (source, external id): recording the same signal twice adds nothing.</summary>
public sealed class SignalLedger(LedgerDatabase db)
{
    public async Task<SignalRow> GetAsync(long signalId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<SignalRow>(SignalRow.Select + " WHERE id = @signalId", new { signalId }, ct)
        ?? throw new LedgerException($"There is no signal {signalId}.");

    public Task<SignalRow?> FindAsync(string source, string externalId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<SignalRow>(SignalRow.Select + " WHERE source = @source AND external_id = @externalId", new { source, externalId }, ct);

    /// <summary>Records a signal once. Returns the stored row and whether this call created it.</summary>
    public async Task<(SignalRow Signal, bool Created)> RecordAsync(string actor, SignalInput input, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(input.Source) || string.IsNullOrWhiteSpace(input.ExternalId))
            throw new LedgerException("A signal needs a source and an external id (for example github and acme/billing#123).");
        if (string.IsNullOrWhiteSpace(input.Title)) throw new LedgerException($"Signal {input.Source}:{input.ExternalId} has no title.");
        return await db.WriteAsync(actor, async w =>
        {
            var existing = await w.SingleOrDefaultAsync<SignalRow>(SignalRow.Select + " WHERE source = @Source AND external_id = @ExternalId", new { input.Source, input.ExternalId });
            if (existing is not null) return (existing, false);
            var id = await w.ScalarAsync<long>("""
                INSERT INTO signals (source, external_id, title, body, url, labels_json, author, created_at, received_at)
                VALUES (@Source, @ExternalId, @Title, @Body, @Url, @labels, @Author, @created, @now)
                RETURNING id
                """, new
            {
                input.Source,
                input.ExternalId,
                input.Title,
                Body = input.Body ?? "",
                input.Url,
                labels = Json.Serialize(input.Labels),
                input.Author,
                created = input.CreatedAt is { } c ? Iso.Text(c) : null,
                now = w.NowText,
            });
            await w.AuditAsync("signal.recorded", "signal", id, new { source = input.Source, external_id = input.ExternalId, title = input.Title, url = input.Url });
            return ((await w.SingleOrDefaultAsync<SignalRow>(SignalRow.Select + " WHERE id = @id", new { id }))!, true);
        }, ct);
    }
}
