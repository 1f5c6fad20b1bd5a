namespace FactoryMcp.Ledger.Agents;

public sealed partial class AgentRegistry
{
    /// <summary>Whether any live registration holds a token (HTTP beyond loopback needs one).</summary>
    public async Task<bool> AnyTokenAsync(CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<long>(
            "SELECT count(*) FROM agents WHERE token_hash IS NOT NULL AND revoked_at IS NULL",
            ct: ct
        ) > 0;
}
