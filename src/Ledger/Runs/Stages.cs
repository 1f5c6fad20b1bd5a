namespace FactoryMcp.Ledger.Runs;

/// <summary>Stages of DESIGN section 1, in order.</summary>
public static class Stages
{
    public static readonly IReadOnlyList<string> All = ["scout", "build", "verify", "package", "review"];
}
