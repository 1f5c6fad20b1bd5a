namespace FactoryMcp.Ledger.Agents;

/// <summary>Who is calling, as the registry knows them. Every ledger operation acts for one caller.</summary>
public sealed record Caller(long AgentId, string Name, string Role, string? VerifierRole = null)
{
    /// <summary>The audit actor: role and name.</summary>
    public string Actor => $"{Role}:{Name}";

    /// <summary>A human at the local CLI (or dashboard session); not necessarily in the registry.</summary>
    public static Caller LocalHuman(string name) => new(0, name, Roles.Human);

    public bool IsHuman => Role == Roles.Human;

    /// <summary>The server drafting proposals from signals (a line's template, never an agent).</summary>
    public static Caller SignalIntake { get; } = new(0, "signal-intake", "server");

    /// <summary>
    /// The server approving a proposal on a line with <c>auto_approve</c>, only when its commands come wholly
    /// from the line's configuration and no override weakens a gate.
    /// </summary>
    public static Caller AutoApproval { get; } = new(0, "auto-approve", "server");
}
