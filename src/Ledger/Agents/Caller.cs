namespace FactoryMcp.Ledger.Agents;

/// <summary>Who is calling, as the registry knows them. Every ledger operation acts for one caller.</summary>
public sealed record Caller(long AgentId, string Name, string Role, string? VerifierRole = null)
{
    /// <summary>The audit actor: role and name.</summary>
    public string Actor => $"{Role}:{Name}";

    /// <summary>A human at the local CLI (or dashboard session); not necessarily in the registry.</summary>
    public static Caller LocalHuman(string name) => new(0, name, Roles.Human);

    public bool IsHuman => Role == Roles.Human;
}
