namespace FactoryMcp.Ledger.Validation;

/// <summary>A validation job's states: queued, running, then accepted or refused.</summary>
public static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Accepted = "accepted";
    public const string Refused = "refused";
}
