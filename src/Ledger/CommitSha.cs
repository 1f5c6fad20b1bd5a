namespace FactoryMcp.Ledger;

/// <summary>Full git commit ids (SHA-1, 40 hex digits; SHA-256 repositories use 64).</summary>
public static class CommitSha
{
    public static bool IsFull(string? sha) =>
        sha is { Length: 40 or 64 } && sha.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
