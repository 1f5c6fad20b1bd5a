namespace FactoryMcp.Ledger.Triggers;

/// <summary>One firing of a trigger: claimed by one server process, then finished with what it produced or why it failed.</summary>
public sealed record TriggerFiring
{
    public required long Id { get; init; }
    public required string TriggerName { get; init; }
    public required DateTimeOffset ScheduledAt { get; init; }
    public required string ClaimedBy { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary><see cref="TriggerFirings.Running"/>, <see cref="TriggerFirings.Done"/> or <see cref="TriggerFirings.Failed"/>.</summary>
    public required string Status { get; init; }

    /// <summary>Signals this firing recorded for the first time.</summary>
    public long SignalsNew { get; init; }

    /// <summary>Signals its output named in all (those already known included).</summary>
    public long SignalsSeen { get; init; }
    public string? Error { get; init; }

    internal const string Select = """
        SELECT id AS Id, trigger_name AS TriggerName, scheduled_at AS ScheduledAt, claimed_by AS ClaimedBy,
               started_at AS StartedAt, finished_at AS FinishedAt, status AS Status, signals_new AS SignalsNew,
               signals_seen AS SignalsSeen, error AS Error
        FROM trigger_firings
        """;
}

public static class TriggerFirings
{
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
}
