using System.Security.Cryptography;
using System.Text;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Sessions;

/// <summary>What the ledger says about a session id a replica does not hold.</summary>
public enum SessionStanding
{
    /// <summary>Never opened, closed by its client, or expired and removed.</summary>
    Unknown,

    /// <summary>Opened with another credential (another token, or a re-issued one): never resumed for this caller.</summary>
    OtherCaller,

    /// <summary>Idle past the idle timeout: removed, as the replica that held it would have closed it.</summary>
    Expired,

    /// <summary>Resumed: its initialize handshake is returned and its last activity stamped.</summary>
    Resumed,
}

public sealed record SessionResumption(SessionStanding Standing, string? Initialize);

/// <summary>
/// The 2025-revision MCP sessions of every replica (README, "A fleet of replicas"): each one's initialize
/// handshake and the credential that opened it, so a request carrying its Mcp-Session-Id on any replica, or
/// after the replica that opened it died, continues it for the same credential only. The session id is stored
/// as its sha256. Activity is stamped at most once a minute per session and process (the caller throttles), so
/// an idle timeout reads the same on every replica to within that minute.
/// </summary>
public sealed class SessionLedger(LedgerDatabase db)
{
    /// <summary>How often a replica stamps the activity of a session it serves.</summary>
    public static readonly TimeSpan StampPeriod = TimeSpan.FromMinutes(1);

    public static string Hash(string sessionId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sessionId)));

    private const string DeleteIdle = "DELETE FROM mcp_sessions WHERE seen_at < @cutoff";

    private const string Insert = """
        INSERT INTO mcp_sessions (session_hash, credential, agent_id, initialize, opened_at, seen_at)
        VALUES (@hash, @credential, @agentId, @initialize, @now, @now)
        ON CONFLICT (session_hash) DO NOTHING
        """;

    /// <summary>Records a session its replica has just opened; sessions idle past <paramref name="idle"/> go.</summary>
    public Task OpenAsync(
        string sessionId,
        string credential,
        long agentId,
        string initialize,
        TimeSpan idle,
        CancellationToken ct = default
    ) =>
        db.WriteAsync(
            $"session:{agentId}",
            async w =>
            {
                await w.ExecuteAsync(DeleteIdle, SqlArgs.Of(new { cutoff = Iso.Text(w.Now - idle - StampPeriod) }));
                await w.ExecuteAsync(
                    Insert,
                    SqlArgs.Of(
                        new
                        {
                            hash = Hash(sessionId),
                            credential,
                            agentId,
                            initialize,
                            now = w.NowText,
                        }
                    )
                );
            },
            ct
        );

    private sealed record Row(string Credential, string Initialize, string SeenAt);

    private const string Select = """
        SELECT credential AS Credential, initialize AS Initialize, seen_at AS SeenAt
        FROM mcp_sessions WHERE session_hash = @hash
        """;

    private const string Stamp =
        "UPDATE mcp_sessions SET seen_at = @now WHERE session_hash = @hash AND credential = @credential";

    private const string Delete = "DELETE FROM mcp_sessions WHERE session_hash = @hash";

    /// <summary>
    /// Whether the session may continue here for <paramref name="credential"/>. A session idle longer than
    /// <paramref name="idle"/> (plus the stamp period, the granularity of its activity) is expired and removed.
    /// </summary>
    public Task<SessionResumption> ResumeAsync(
        string sessionId,
        string credential,
        TimeSpan idle,
        CancellationToken ct = default
    ) =>
        db.WriteAsync(
            "session:resume",
            async w =>
            {
                var hash = Hash(sessionId);
                var row = await w.SingleOrDefaultAsync<Row>(Select, SqlArgs.Of(new { hash }));
                if (row is null)
                    return new SessionResumption(SessionStanding.Unknown, null);
                if (
                    !CryptographicOperations.FixedTimeEquals(
                        Encoding.UTF8.GetBytes(row.Credential),
                        Encoding.UTF8.GetBytes(credential)
                    )
                )
                    return new SessionResumption(SessionStanding.OtherCaller, null);
                if (Iso.Parse(row.SeenAt) < w.Now - idle - StampPeriod)
                {
                    await w.ExecuteAsync(Delete, SqlArgs.Of(new { hash }));
                    return new SessionResumption(SessionStanding.Expired, null);
                }
                await w.ExecuteAsync(
                    Stamp,
                    SqlArgs.Of(
                        new
                        {
                            hash,
                            credential,
                            now = w.NowText,
                        }
                    )
                );
                return new SessionResumption(SessionStanding.Resumed, row.Initialize);
            },
            ct
        );

    /// <summary>Stamps the activity of a session this replica serves (for its own credential only).</summary>
    public Task StampAsync(string sessionId, string credential, CancellationToken ct = default) =>
        db.WriteAsync(
            "session:stamp",
            w =>
                w.ExecuteAsync(
                    Stamp,
                    SqlArgs.Of(
                        new
                        {
                            hash = Hash(sessionId),
                            credential,
                            now = w.NowText,
                        }
                    )
                ),
            ct
        );

    /// <summary>Forgets a session its client ended (DELETE), so no replica resumes it.</summary>
    public Task CloseAsync(string sessionId, string credential, CancellationToken ct = default) =>
        db.WriteAsync(
            "session:close",
            w =>
                w.ExecuteAsync(
                    "DELETE FROM mcp_sessions WHERE session_hash = @hash AND credential = @credential",
                    SqlArgs.Of(new { hash = Hash(sessionId), credential })
                ),
            ct
        );
}
