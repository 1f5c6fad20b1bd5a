using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Triggers;

/// <summary>
/// Firings of scheduled triggers. A firing is one row per (trigger, scheduled time); the process whose insert
/// makes the row runs it, every other process's insert does nothing, so a schedule fires once across every
/// process serving the ledger.
/// </summary>
public sealed class TriggerLedger(LedgerDatabase db)
{
    /// <summary>Claims the firing of <paramref name="trigger"/> scheduled at <paramref name="scheduledAt"/>; null when another process has it.</summary>
    public Task<TriggerFiring?> ClaimAsync(
        string trigger,
        DateTimeOffset scheduledAt,
        string owner,
        CancellationToken ct = default
    ) =>
        db.WriteAsync(
            "server:triggers",
            async w =>
            {
                var id = await w.SingleOrDefaultAsync<long?>(
                    """
                    INSERT INTO trigger_firings (trigger_name, scheduled_at, claimed_by, started_at, status)
                    VALUES (@trigger, @scheduled, @owner, @now, 'running')
                    ON CONFLICT (trigger_name, scheduled_at) DO NOTHING
                    RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            trigger,
                            scheduled = Iso.Text(scheduledAt),
                            owner,
                            now = w.NowText,
                        }
                    )
                );
                if (id is not { } claimed)
                    return null;
                await w.AuditAsync(
                    "trigger.fired",
                    "trigger_firing",
                    claimed,
                    new JsonObject
                    {
                        ["trigger"] = trigger,
                        ["scheduled_at"] = Iso.Text(scheduledAt),
                        ["owner"] = owner,
                    }
                );
                return await w.SingleOrDefaultAsync<TriggerFiring>(
                    TriggerFiring.Select + " WHERE id = @claimed",
                    SqlArgs.Of(new { claimed })
                );
            },
            ct
        );

    /// <summary>Ends a firing: done with the signals it produced, or failed with the reason (nothing else was recorded).</summary>
    public Task FinishAsync(
        long id,
        long signalsNew,
        long signalsSeen,
        string? error,
        CancellationToken ct = default
    ) =>
        db.WriteAsync(
            "server:triggers",
            async w =>
            {
                var status = error is null ? TriggerFirings.Done : TriggerFirings.Failed;
                await w.ExecuteAsync(
                    """
                    UPDATE trigger_firings SET finished_at = @now, status = @status, signals_new = @signalsNew,
                        signals_seen = @signalsSeen, error = @error
                    WHERE id = @id AND status = 'running'
                    """,
                    SqlArgs.Of(
                        new
                        {
                            now = w.NowText,
                            status,
                            signalsNew,
                            signalsSeen,
                            error,
                            id,
                        }
                    )
                );
                await w.AuditAsync(
                    "trigger.finished",
                    "trigger_firing",
                    id,
                    new JsonObject
                    {
                        ["status"] = status,
                        ["signals_new"] = signalsNew,
                        ["signals_seen"] = signalsSeen,
                        ["error"] = error,
                    }
                );
            },
            ct
        );

    /// <summary>The newest firing of every trigger that ever fired.</summary>
    public async Task<IReadOnlyDictionary<string, TriggerFiring>> LatestAsync(CancellationToken ct = default) =>
        (
            await db.QueryAsync<TriggerFiring>(
                TriggerFiring.Select
                    + """
                     WHERE id IN (SELECT MAX(id) FROM trigger_firings GROUP BY trigger_name)
                    """,
                ct: ct
            )
        ).ToDictionary(f => f.TriggerName, StringComparer.Ordinal);

    /// <summary>The newest failed firing of every trigger that ever failed.</summary>
    public async Task<IReadOnlyDictionary<string, TriggerFiring>> LastFailuresAsync(CancellationToken ct = default) =>
        (
            await db.QueryAsync<TriggerFiring>(
                TriggerFiring.Select
                    + """
                     WHERE id IN (SELECT MAX(id) FROM trigger_firings WHERE status = 'failed' GROUP BY trigger_name)
                    """,
                ct: ct
            )
        ).ToDictionary(f => f.TriggerName, StringComparer.Ordinal);

    /// <summary>The latest scheduled time of <paramref name="trigger"/> already claimed, or null when it never fired.</summary>
    public async Task<DateTimeOffset?> LastScheduledAsync(string trigger, CancellationToken ct = default)
    {
        var text = await db.QuerySingleOrDefaultAsync<string?>(
            "SELECT MAX(scheduled_at) FROM trigger_firings WHERE trigger_name = @trigger",
            SqlArgs.Of(new { trigger }),
            ct
        );
        return text is null ? null : Iso.Parse(text);
    }

    /// <summary>Every firing of a trigger, newest first (at most <paramref name="limit"/>).</summary>
    public async Task<IReadOnlyList<TriggerFiring>> HistoryAsync(
        string trigger,
        int limit,
        CancellationToken ct = default
    ) =>
        (
            await db.QueryAsync<TriggerFiring>(
                TriggerFiring.Select + " WHERE trigger_name = @trigger ORDER BY id DESC LIMIT @limit",
                SqlArgs.Of(new { trigger, limit }),
                ct
            )
        ).ToList();
}
