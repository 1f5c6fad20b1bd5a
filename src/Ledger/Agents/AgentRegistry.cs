using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Agents;

/// <summary>
/// The authoritative agent registry (DESIGN section 7). Tokens are printed once; only their SHA-256 is
/// stored. Builders may register on first contact by name alone; verifiers and humans need a token.
/// </summary>
public sealed partial class AgentRegistry(LedgerDatabase db)
{
    private const string SelectAgent = """
        SELECT id AS Id, name AS Name, role AS Role, verifier_role AS VerifierRole, token_hash AS TokenHash,
               created_at AS CreatedAt, revoked_at AS RevokedAt, last_seen_at AS LastSeenAt
        FROM agents
        """;

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64
        && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@');

    public static void RequireValidName(string name)
    {
        if (!IsValidName(name))
            throw new LedgerException(
                $"Agent name '{name}' is not valid: use 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit."
            );
    }

    /// <summary>
    /// One agent by name, read by hand: `factory serve` looks its caller up before it can answer initialize,
    /// and the row mapper's first use (its reflection over the row type) would add to every spawn.
    /// </summary>
    public Task<AgentRow?> FindAsync(string name, CancellationToken ct = default) =>
        db.ReadAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = SelectAgent + " WHERE name = @name";
            command.AddParameter("name", name);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                return (AgentRow?)null;
            return new AgentRow
            {
                Id = reader.GetInt64(0),
                Name = reader.GetString(1),
                Role = reader.GetString(2),
                VerifierRole = reader.IsDBNull(3) ? null : reader.GetString(3),
                TokenHash = reader.IsDBNull(4) ? null : reader.GetString(4),
                CreatedAt = Iso.Parse(reader.GetString(5)),
                RevokedAt = reader.IsDBNull(6) ? null : Iso.Parse(reader.GetString(6)),
                LastSeenAt = reader.IsDBNull(7) ? null : Iso.Parse(reader.GetString(7)),
            };
        });

    public async Task<IReadOnlyList<AgentRow>> ListAsync(CancellationToken ct = default) =>
        (await db.QueryAsync<AgentRow>(SelectAgent + " ORDER BY name", ct: ct)).ToList();

    /// <summary>
    /// Registers an agent (or re-issues the token of one with the same role) and returns the token,
    /// which is shown once and never stored.
    /// </summary>
    public async Task<(AgentRow Agent, string Token)> AddAsync(
        string actor,
        string name,
        string role,
        string? verifierRole,
        IReadOnlyList<string> pools,
        CancellationToken ct = default
    )
    {
        RequireValidName(name);
        if (!Roles.All.Contains(role))
            throw new LedgerException($"Role '{role}' is not one of {string.Join(", ", Roles.All)}.");
        if (verifierRole is not null && role != Roles.Verifier)
            throw new LedgerException("--verifier-role only applies to --role verifier.");
        if (role == Roles.Verifier && string.IsNullOrWhiteSpace(verifierRole))
            throw new LedgerException(
                "A verifier needs --verifier-role (for example qa, secops or devops): verdicts are collected one per role."
            );
        foreach (var pool in pools)
            RequirePoolName(pool);
        var token = NewToken();
        var hash = HashToken(token);
        var agent = await db.WriteAsync(
            actor,
            async w =>
            {
                var existing = await w.SingleOrDefaultAsync<AgentRow>(
                    SelectAgent + " WHERE name = @name",
                    SqlArgs.Of(new { name })
                );
                long id;
                if (existing is null)
                {
                    id = await w.ScalarAsync<long>(
                        """
                        INSERT INTO agents (name, role, verifier_role, token_hash, created_at, created_by)
                        VALUES (@name, @role, @verifierRole, @hash, @now, @actor) RETURNING id
                        """,
                        SqlArgs.Of(
                            new
                            {
                                name,
                                role,
                                verifierRole,
                                hash,
                                now = w.NowText,
                                actor,
                            }
                        )
                    );
                    await w.AuditAsync(
                        "agent.added",
                        "agent",
                        id,
                        new JsonObject
                        {
                            ["name"] = name,
                            ["role"] = role,
                            ["verifier_role"] = verifierRole,
                            ["pools"] = Json.Array(pools),
                        }
                    );
                }
                else
                {
                    if (existing.Role != role && existing.RevokedAt is null)
                        throw new LedgerException(
                            $"'{name}' is already registered as {existing.Role}. Revoke it first (`factory agent revoke {name}`) or choose another name."
                        );
                    id = existing.Id;
                    await w.ExecuteAsync(
                        "UPDATE agents SET role = @role, verifier_role = @verifierRole, token_hash = @hash, revoked_at = NULL WHERE id = @id",
                        SqlArgs.Of(
                            new
                            {
                                role,
                                verifierRole,
                                hash,
                                id,
                            }
                        )
                    );
                    await w.AuditAsync(
                        "agent.token_issued",
                        "agent",
                        id,
                        new JsonObject
                        {
                            ["name"] = name,
                            ["role"] = role,
                            ["verifier_role"] = verifierRole,
                            ["pools"] = Json.Array(pools),
                        }
                    );
                }
                foreach (var pool in pools)
                {
                    await w.ExecuteAsync(
                        "INSERT INTO pools (name, created_at) VALUES (@pool, @now) ON CONFLICT DO NOTHING",
                        SqlArgs.Of(new { pool, now = w.NowText })
                    );
                    await w.ExecuteAsync(
                        "INSERT INTO pool_members (pool, agent_id) VALUES (@pool, @id) ON CONFLICT DO NOTHING",
                        SqlArgs.Of(new { pool, id })
                    );
                }
                return await w.SingleOrDefaultAsync<AgentRow>(SelectAgent + " WHERE id = @id", SqlArgs.Of(new { id }));
            },
            ct
        );
        return (agent!, token);
    }

    public async Task RevokeAsync(string actor, string name, CancellationToken ct = default)
    {
        await db.WriteAsync(
            actor,
            async w =>
            {
                var existing =
                    await w.SingleOrDefaultAsync<AgentRow>(
                        SelectAgent + " WHERE name = @name",
                        SqlArgs.Of(new { name })
                    )
                    ?? throw new LedgerException(
                        $"No agent named '{name}' is registered; `factory agents` lists them."
                    );
                if (existing.RevokedAt is not null)
                    throw new LedgerException($"'{name}' was already revoked at {Iso.Text(existing.RevokedAt.Value)}.");
                await w.ExecuteAsync(
                    "UPDATE agents SET revoked_at = @now, token_hash = NULL WHERE id = @id",
                    SqlArgs.Of(new { now = w.NowText, id = existing.Id })
                );
                await w.ExecuteAsync(
                    "DELETE FROM pool_members WHERE agent_id = @id",
                    SqlArgs.Of(new { id = existing.Id })
                );
                await w.AuditAsync("agent.revoked", "agent", existing.Id, new JsonObject { ["name"] = name });
            },
            ct
        );
    }

    internal static void RequirePoolName(string pool)
    {
        if (!IsValidName(pool))
            throw new LedgerException($"Pool name '{pool}' is not valid: use letters, digits, '.', '_' or '-'.");
    }

    private static string NewToken() =>
        "fmcp_"
        + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string HashToken(string token) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token))).ToLowerInvariant();

    internal static bool TokenMatches(string? storedHash, string token) =>
        storedHash is not null
        && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(storedHash),
            Encoding.ASCII.GetBytes(HashToken(token))
        );

    /// <summary>Whether any live registration holds a token (HTTP beyond loopback needs one).</summary>
    public async Task<bool> AnyTokenAsync(CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<long>(
            "SELECT count(*) FROM agents WHERE token_hash IS NOT NULL AND revoked_at IS NULL",
            ct: ct
        ) > 0;
}
