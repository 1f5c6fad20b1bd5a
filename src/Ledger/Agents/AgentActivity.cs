namespace FactoryMcp.Ledger.Agents;

/// <summary>One registered caller's recent work, for `factory agents`: is there idle capacity?</summary>
public sealed record AgentActivity
{
    public required AgentRow Agent { get; init; }
    public required IReadOnlyList<string> Pools { get; init; }
    public required long OpenRuns { get; init; }
    public required long RunsInWindow { get; init; }

    /// <summary>Time the agent held at least one run during the window (overlapping runs count once).</summary>
    public required TimeSpan Busy { get; init; }

    public required TimeSpan Window { get; init; }

    /// <summary>Busy time over the window, 0 to 1.</summary>
    public double Utilization => Window <= TimeSpan.Zero ? 0 : Math.Clamp(Busy / Window, 0, 1);

    /// <summary>busy (holds a run), idle (seen during the window, holds none), away (not seen), or revoked.</summary>
    public required string Status { get; init; }

    public const string BusyStatus = "busy";
    public const string IdleStatus = "idle";
    public const string AwayStatus = "away";
    public const string RevokedStatus = "revoked";
}
