using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Agents;

public sealed partial class AgentRegistry
{
    /// <summary>
    /// Identifies a stdio caller from FACTORY_AGENT (and FACTORY_TOKEN, FACTORY_ROLE). Builders may
    /// connect by name alone and are registered on first contact; verifiers and humans need their token;
    /// a claimed role that differs from the registry is refused.
    /// </summary>
    public async Task<Caller> AuthenticateAsync(
        string? name,
        string? token,
        string? claimedRole,
        CancellationToken ct = default
    )
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new LedgerException(
                "FACTORY_AGENT is not set: the factory needs to know who is calling. Set FACTORY_AGENT to this agent's name in its MCP registration (`factory init` writes it)."
            );
        RequireValidName(name);
        token = string.IsNullOrEmpty(token) ? null : token;
        claimedRole = string.IsNullOrEmpty(claimedRole) ? null : claimedRole;
        if (claimedRole is not null && !Roles.All.Contains(claimedRole))
            throw new LedgerException($"FACTORY_ROLE '{claimedRole}' is not one of {string.Join(", ", Roles.All)}.");

        var agent = await FindAsync(name, ct);
        if (agent is null)
        {
            if (claimedRole is not null and not Roles.Agent)
                throw new LedgerException(
                    $"'{name}' is not registered, and only builders register on first contact. A human registers a {claimedRole} with `factory agent add {name} --role {claimedRole}` and passes the printed token as FACTORY_TOKEN."
                );
            if (token is not null)
                throw new LedgerException(
                    $"'{name}' is not registered, so FACTORY_TOKEN cannot match. Register it with `factory agent add {name}`, or drop FACTORY_TOKEN to connect as a new builder."
                );
            agent = await RegisterOnFirstContactAsync(name, ct);
        }

        if (agent.RevokedAt is not null)
            throw new LedgerException(
                $"'{name}' was revoked; a human can register it again with `factory agent add {name}`."
            );
        if (claimedRole is not null && claimedRole != agent.Role)
            throw new LedgerException(
                $"'{name}' is registered as {agent.Role}, not {claimedRole}. The role comes from the registry, never from the caller; connect under a name registered with the role you need."
            );
        if (agent.Role is Roles.Verifier or Roles.Human && token is null)
            throw new LedgerException(
                $"'{name}' is registered as {agent.Role}, which needs FACTORY_TOKEN (printed by `factory agent add`)."
            );
        if (token is not null && !TokenMatches(agent.TokenHash, token))
            throw new LedgerException(
                $"FACTORY_TOKEN does not match the token registered for '{name}'. Use the token `factory agent add {name}` printed, or issue a new one with it."
            );
        return new Caller(agent.Id, agent.Name, agent.Role, agent.VerifierRole);
    }

    /// <summary>Identifies an HTTP caller by bearer token alone.</summary>
    public async Task<Caller?> AuthenticateTokenAsync(string token, CancellationToken ct = default)
    {
        var hash = HashToken(token);
        var agent = await db.QuerySingleOrDefaultAsync<AgentRow>(
            SelectAgent + " WHERE token_hash = @hash AND revoked_at IS NULL",
            SqlArgs.Of(new { hash }),
            ct
        );
        return agent is null ? null : new Caller(agent.Id, agent.Name, agent.Role, agent.VerifierRole);
    }

    private async Task<AgentRow> RegisterOnFirstContactAsync(string name, CancellationToken ct)
    {
        return await db.WriteAsync(
            $"agent:{name}",
            async w =>
            {
                var inserted = await w.ExecuteAsync(
                    """
                    INSERT INTO agents (name, role, created_at, created_by) VALUES (@name, 'agent', @now, 'first-contact')
                    ON CONFLICT (name) DO NOTHING
                    """,
                    SqlArgs.Of(new { name, now = w.NowText })
                );
                var row = (
                    await w.SingleOrDefaultAsync<AgentRow>(
                        SelectAgent + " WHERE name = @name",
                        SqlArgs.Of(new { name })
                    )
                )!;
                if (inserted == 1)
                    await w.AuditAsync(
                        "agent.registered_on_first_contact",
                        "agent",
                        row.Id,
                        new JsonObject { ["name"] = name, ["role"] = Roles.Agent }
                    );
                return row;
            },
            ct
        );
    }
}
