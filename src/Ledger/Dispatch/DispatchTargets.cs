using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Dispatch;

/// <summary>Queue targets: a registered builder (<c>agent:NAME</c>) or a pool (<c>pool:NAME</c>).</summary>
public static class DispatchTargets
{
    /// <summary>The word that clears a target: the task is open to any builder.</summary>
    public const string Anyone = "anyone";

    public static bool IsAnyone(string target) =>
        string.Equals((target ?? "").Trim(), Anyone, StringComparison.OrdinalIgnoreCase);

    /// <summary>A queue target as people read it: NAME, pool:NAME, or anyone.</summary>
    public static string Show(string? target) =>
        target is null ? Anyone
        : target.StartsWith("agent:", StringComparison.Ordinal) ? target[6..]
        : target;

    /// <summary>Turns what a caller wrote ("NAME" or "pool:NAME") into a queue target, refusing unknown ones.</summary>
    public static async Task<string> ResolveAsync(LedgerWrite w, string target)
    {
        target = (target ?? "").Trim();
        if (target.StartsWith("pool:", StringComparison.Ordinal))
        {
            var pool = target[5..];
            var exists = await w.ScalarAsync<long>(
                "SELECT count(*) FROM pools WHERE name = @pool",
                SqlArgs.Of(new { pool })
            );
            if (exists == 0)
            {
                var known = await w.QueryAsync<string>("SELECT name FROM pools ORDER BY name");
                throw new LedgerException(
                    $"There is no pool '{pool}'. Known pools: {(known.Count == 0 ? "none" : string.Join(", ", known))}. A human adds agents to a pool with `factory agent add NAME --pool {pool}`."
                );
            }
            return target;
        }
        var name = target.StartsWith("agent:", StringComparison.Ordinal) ? target[6..] : target;
        var agent = await w.SingleOrDefaultAsync<AgentRow>(
            """
            SELECT id AS Id, name AS Name, role AS Role, verifier_role AS VerifierRole, token_hash AS TokenHash,
                   created_at AS CreatedAt, revoked_at AS RevokedAt, last_seen_at AS LastSeenAt
            FROM agents WHERE name = @name
            """,
            SqlArgs.Of(new { name })
        );
        if (agent is null || agent.RevokedAt is not null)
            throw new LedgerException(
                $"There is no registered agent '{name}'. Target a registered builder by name or a pool as pool:NAME; `factory agents` lists them."
            );
        if (agent.Role != Roles.Agent)
            throw new LedgerException($"'{name}' is a {agent.Role}, not a builder; only builders take queued work.");
        return "agent:" + name;
    }
}
