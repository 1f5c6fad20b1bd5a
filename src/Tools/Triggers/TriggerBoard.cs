using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tools.Triggers;

/// <summary>What `factory triggers` and the dashboard show of each trigger: its last and next firing, what it produced, its last error.</summary>
public sealed class TriggerBoard(TriggerLedger firings, TriggerScheduler scheduler, ConfigFiles config)
{
    public sealed record Status
    {
        public required string Name { get; init; }
        public required string Schedule { get; init; }
        public required string Line { get; init; }
        public required string Format { get; init; }
        public required string Command { get; init; }

        /// <summary>The time zone the schedule is read in (the server's).</summary>
        public required string TimeZone { get; init; }
        public TriggerFiring? Last { get; init; }
        public DateTimeOffset? Next { get; init; }

        /// <summary>The newest failed firing (it may be older than <see cref="Last"/>).</summary>
        public TriggerFiring? LastFailure { get; init; }
    }

    public async Task<IReadOnlyList<Status>> ListAsync(CancellationToken ct = default)
    {
        var triggers = config.Settings.Triggers;
        var latest = await firings.LatestAsync(ct);
        var failures = await firings.LastFailuresAsync(ct);
        var list = new List<Status>();
        foreach (var trigger in triggers)
            list.Add(
                new Status
                {
                    Name = trigger.Name,
                    Schedule = trigger.Schedule,
                    Line = trigger.Line,
                    Format = trigger.Format,
                    Command = trigger.Command,
                    TimeZone = scheduler.Zone.Id,
                    Last = latest.GetValueOrDefault(trigger.Name),
                    Next = await scheduler.NextAsync(trigger, ct),
                    LastFailure = failures.GetValueOrDefault(trigger.Name),
                }
            );
        return list;
    }

    /// <summary>One line saying what a firing produced.</summary>
    public static string Describe(TriggerFiring firing) =>
        firing.Status switch
        {
            TriggerFirings.Running => $"running since {Iso(firing.StartedAt)} ({firing.ClaimedBy})",
            TriggerFirings.Failed => $"failed: {firing.Error}",
            _ => $"{firing.SignalsNew} new signal(s) of {firing.SignalsSeen} reported",
        };

    public static string Iso(DateTimeOffset at) => Ledger.Storage.Iso.Text(at);
}
