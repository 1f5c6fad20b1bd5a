namespace FactoryMcp.Ledger.Lifecycle;

/// <summary>Task states of DESIGN section 3.</summary>
public static class TaskStates
{
    public const string Proposed = "proposed";
    public const string Ready = "ready";
    public const string Running = "running";
    public const string Validating = "validating";
    public const string AwaitingVerification = "awaiting_verification";
    public const string AwaitingReview = "awaiting_review";
    public const string Approved = "approved";
    public const string Shipped = "shipped";
    public const string NoOp = "no_op";
    public const string Escalated = "escalated";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";

    /// <summary>A spec job whose answer, a proposed packet, is now a task of its own (README, "Spec jobs").</summary>
    public const string Specced = "specced";

    public static readonly IReadOnlyList<string> All =
    [
        Proposed,
        Ready,
        Running,
        Validating,
        AwaitingVerification,
        AwaitingReview,
        Approved,
        Shipped,
        NoOp,
        Escalated,
        Cancelled,
        Rejected,
        Specced,
    ];

    /// <summary>States no transition leaves.</summary>
    public static bool IsFinal(string state) => state is Shipped or NoOp or Cancelled or Rejected or Specced;
}
