namespace FactoryMcp.Ledger.Funnel;

/// <summary>
/// The funnel of DESIGN section 11, for one environment. A ledger's environment is fixed at creation,
/// so its figures sit under <c>live</c> or under <c>test</c>, never both: test figures are never mixed
/// into live ones.
/// </summary>
public sealed record FunnelReport
{
    public required string Environment { get; init; }
    public FunnelFigures? Live { get; init; }
    public FunnelFigures? Test { get; init; }
}

public sealed record FunnelFigures
{
    public required IReadOnlyList<FunnelStep> Steps { get; init; }
    public required double? NoOpRate { get; init; }
    public required double? EscalationRate { get; init; }
    public required double? RetryRate { get; init; }
    public required double? ReworkRate { get; init; }

    /// <summary>Of the spec jobs that ended, the share that answered with a proposed packet.</summary>
    public required double? SpecProposedRate { get; init; }

    /// <summary>Of the spec jobs that ended, the share that dismissed their signal (NO_OP duplicate, not_actionable, …).</summary>
    public required double? SpecDismissedRate { get; init; }
    public required IReadOnlyDictionary<string, double?> MedianMinutes { get; init; }
    public required double? SignalToApprovedMedianMinutes { get; init; }
    public required IReadOnlyList<AgentUtilization> Agents { get; init; }
    public required double? CostPerShippedChange { get; init; }
    public required string CostUnit { get; init; }

    /// <summary>Where the cost figure came from: <c>measured</c> (the agents' own telemetry), <c>evidence</c> (self-reported cost evidence) or <c>none</c>.</summary>
    public string CostSource { get; init; } = "none";
    public required double? LiveEventBridgeCoverage { get; init; }

    /// <summary>Of this environment's shipped events, the share with all three drafts (for a live ledger, the live coverage).</summary>
    public required double? EventBridgeCoverage { get; init; }
}

public sealed record FunnelStep(string Name, long Count);

public sealed record AgentUtilization(string Agent, long Runs, double BusyMinutes, double Utilization);
