namespace FactoryMcp.Ledger.Signals;

/// <summary>What became of a signal (signals.status); status_reason says why when it made no task.</summary>
public static class SignalStatuses
{
    /// <summary>Recorded, not yet drafted (also what a crash between recording and drafting leaves; the next ingest drafts it).</summary>
    public const string New = "new";

    /// <summary>A proposed packet was drafted from it; it waits for a human (or was auto-approved).</summary>
    public const string Proposed = "proposed";

    /// <summary>No line's label_map matched its labels and no default line has a template.</summary>
    public const string Unrouted = "unrouted";

    /// <summary>Its line's template could not make a valid packet from it; the reason lists the problems.</summary>
    public const string Invalid = "invalid";

    /// <summary>A spec job (a task on the spec line) is writing its packet.</summary>
    public const string Spec = "spec";

    /// <summary>Its spec job closed it with NO_OP (duplicate, not_actionable, …); the reason says which and why.</summary>
    public const string Dismissed = "dismissed";

    public static readonly IReadOnlyList<string> All = [New, Proposed, Unrouted, Invalid, Spec, Dismissed];

    /// <summary>Statuses of a signal no task was made from yet: it may be drafted or dispatched to a spec job.</summary>
    public static bool IsUndrafted(string status) => status is New or Unrouted or Invalid;
}
