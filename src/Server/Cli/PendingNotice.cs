using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Server.Cli;

/// <summary>"2 escalations and 1 review waiting": printed after every command when there are any.</summary>
internal static class PendingNotice
{
    public static async Task WriteAsync(TaskLedger tasks, SignalLedger signals, TextWriter error, CancellationToken ct)
    {
        var counts = await tasks.CountByStateAsync(ct);
        var escalations = counts.GetValueOrDefault(TaskStates.Escalated);
        var reviews = counts.GetValueOrDefault(TaskStates.AwaitingReview);
        var proposals = counts.GetValueOrDefault(TaskStates.Proposed);
        var parts = new List<string>();
        if (escalations > 0)
            parts.Add($"{escalations} escalation{(escalations == 1 ? "" : "s")} to answer");
        if (reviews > 0)
            parts.Add($"{reviews} review{(reviews == 1 ? "" : "s")} waiting");
        if (proposals > 0)
            parts.Add($"{proposals} proposal{(proposals == 1 ? "" : "s")} to approve");
        var duplicates = await signals.FlaggedOpenCountAsync(ct);
        if (duplicates > 0)
            parts.Add(
                $"{duplicates} signal{(duplicates == 1 ? "" : "s")} flagged as possible duplicate{(duplicates == 1 ? "" : "s")} (`factory signals`)"
            );
        if (parts.Count > 0)
            await error.WriteLineAsync($"Pending: {string.Join(", ", parts)} (`factory board`).");
    }
}
