namespace FactoryMcp.Ledger.Lifecycle;

/// <summary>Run states of DESIGN section 3.</summary>
public static class RunStates
{
    public const string Open = "open";
    public const string Validating = "validating";
    public const string Accepted = "accepted";
    public const string NoOp = "no_op";
    public const string Escalated = "escalated";
    public const string Failed = "failed";
    public const string Expired = "expired";
    public const string Superseded = "superseded";
    public const string HandedOff = "handed_off";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All =
    [
        Open,
        Validating,
        Accepted,
        NoOp,
        Escalated,
        Failed,
        Expired,
        Superseded,
        HandedOff,
        Cancelled,
    ];

    /// <summary>Whether the builder still holds the run (it may record evidence and declare).</summary>
    public static bool IsLive(string state) => state is Open or Validating;
}
