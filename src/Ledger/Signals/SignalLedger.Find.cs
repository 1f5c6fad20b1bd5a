using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Queries;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Signals;

public sealed partial class SignalLedger
{
    /// <summary>
    /// Signals newest first by status, arrival (since) and words in the title; with
    /// <paramref name="flaggedOnly"/>, only those flagged as possible duplicates when they arrived.
    /// </summary>
    public async Task<IReadOnlyList<SignalRow>> FindAsync(
        LedgerQuery query,
        bool flaggedOnly = false,
        CancellationToken ct = default
    )
    {
        if (query.State is not null && !SignalStatuses.All.Contains(query.State))
            throw new LedgerException(
                $"Status '{query.State}' is not a signal status; use one of {string.Join(", ", SignalStatuses.All)}."
            );
        const string sql =
            SignalRow.Select
            + """
                 WHERE (@status IS NULL OR status = @status)
                   AND (@since IS NULL OR received_at >= @since)
                   AND (@pattern IS NULL OR lower(title) LIKE @pattern ESCAPE '\')
                   AND (@flagged = 0 OR EXISTS (SELECT 1 FROM signal_links l WHERE l.signal_id = signals.id))
                   AND (@beforeId IS NULL OR id < @beforeId)
                 ORDER BY id DESC LIMIT @limit
                """;
        return (
            await db.QueryAsync<SignalRow>(
                sql,
                SqlArgs.Of(
                    new
                    {
                        status = query.State,
                        since = query.SinceText,
                        pattern = query.Pattern,
                        flagged = flaggedOnly ? 1 : 0,
                        beforeId = query.BeforeId,
                        limit = query.ClampedLimit,
                    }
                ),
                ct
            )
        ).ToList();
    }

    /// <summary>
    /// A human closes a signal no task was made from (new, unrouted or invalid), with the reason. A signal
    /// with a proposal or a spec job is refused with what to do instead; nothing changes.
    /// </summary>
    public async Task<SignalRow> DismissAsync(
        Caller caller,
        long signalId,
        string reason,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human dismisses a signal.");
        if (string.IsNullOrWhiteSpace(reason))
            throw new LedgerException("Say why the signal is dismissed (reason); nothing changed.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var signal =
                    await w.SingleOrDefaultAsync<SignalRow>(
                        SignalRow.Select + " WHERE id = @signalId",
                        SqlArgs.Of(new { signalId })
                    ) ?? throw new LedgerException($"There is no signal {signalId}; `factory signals` lists them.");
                if (!SignalStatuses.IsUndrafted(signal.Status))
                    throw new LedgerException(
                        signal.Status switch
                        {
                            SignalStatuses.Dismissed =>
                                $"Signal {signalId} is already dismissed ({signal.StatusReason}); nothing changed.",
                            SignalStatuses.Spec =>
                                $"Signal {signalId} has a live spec job ({signal.StatusReason}); cancel that task instead (its spec agent may still close the signal as a duplicate). Nothing changed.",
                            _ =>
                                $"Signal {signalId} was drafted into a task; reject or cancel that task instead. Nothing changed.",
                        }
                    );
                var text = $"dismissed by {caller.Name}: {reason.Trim()}";
                await w.ExecuteAsync(
                    "UPDATE signals SET status = @dismissed, status_reason = @text WHERE id = @signalId",
                    SqlArgs.Of(
                        new
                        {
                            dismissed = SignalStatuses.Dismissed,
                            text,
                            signalId,
                        }
                    )
                );
                await w.AuditAsync(
                    "signal.dismissed",
                    "signal",
                    signalId,
                    new JsonObject { ["status"] = SignalStatuses.Dismissed, ["reason"] = text }
                );
                return signal with { Status = SignalStatuses.Dismissed, StatusReason = text };
            },
            ct
        );
    }
}
