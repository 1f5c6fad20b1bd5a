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
}
