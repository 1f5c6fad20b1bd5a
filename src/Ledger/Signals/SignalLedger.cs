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

    /// <summary>
    /// Inside the transaction that proposes its task: moves the signal from new to proposed, refusing a
    /// signal already drafted (two intakes racing on one signal make one task).
    /// </summary>
    internal static async Task MarkDraftedAsync(LedgerWrite w, long signalId)
    {
        var changed = await w.ExecuteAsync(
            "UPDATE signals SET status = @proposed, status_reason = NULL WHERE id = @signalId AND status IN ('new', 'unrouted', 'invalid')",
            new { proposed = SignalStatuses.Proposed, signalId });
        if (changed != 1)
            throw new LedgerException($"Signal {signalId} was already drafted into a task (or set aside); nothing was added.");
        await w.AuditAsync("signal.drafted", "signal", signalId, new { status = SignalStatuses.Proposed });
    }

    /// <summary>
    /// Keeps a signal that made no task, with the reason (unrouted or invalid). A signal already drafted is
    /// left alone; an unchanged status and reason write nothing. Returns the row.
    /// </summary>
    public async Task<SignalRow> SetAsideAsync(string actor, long signalId, string status, string reason, CancellationToken ct = default)
    {
        if (status is not (SignalStatuses.Unrouted or SignalStatuses.Invalid)) throw new ArgumentException($"'{status}' is not a set-aside status.", nameof(status));
        return await db.WriteAsync(actor, async w =>
        {
            var changed = await w.ExecuteAsync("""
                UPDATE signals SET status = @status, status_reason = @reason
                WHERE id = @signalId AND status IN ('new', 'unrouted', 'invalid') AND NOT (status = @status AND status_reason IS @reason)
                """, new { status, reason, signalId });
            if (changed == 1) await w.AuditAsync("signal." + status, "signal", signalId, new { status, reason });
            return (await w.SingleOrDefaultAsync<SignalRow>(SignalRow.Select + " WHERE id = @signalId", new { signalId }))!;
        }, ct);
    }

    /// <summary>Notes why a drafted signal's proposal still waits for a human (an auto-approve line that could not approve it).</summary>
    public async Task NoteAsync(string actor, long signalId, string note, CancellationToken ct = default)
    {
        await db.WriteAsync(actor, async w =>
        {
            await w.ExecuteAsync("UPDATE signals SET status_reason = @note WHERE id = @signalId", new { note, signalId });
            await w.AuditAsync("signal.noted", "signal", signalId, new { note });
        }, ct);
    }

    /// <summary>Signals, newest first, optionally by status.</summary>
    public async Task<IReadOnlyList<SignalRow>> ListAsync(string? status, int limit = 100, CancellationToken ct = default) =>
        (await db.QueryAsync<SignalRow>(SignalRow.Select + " WHERE (@status IS NULL OR status = @status) ORDER BY id DESC LIMIT @limit",
            new { status, limit = Math.Clamp(limit, 1, 1000) }, ct)).ToList();

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
