using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Attestations;

/// <summary>
/// The signed attestations of accepted runs (README, "Attestations"). The ledger keeps envelopes only; the key that
/// signs them lives outside it, so whoever can edit the database still cannot forge one.
/// </summary>
public sealed class AttestationLedger(LedgerDatabase db)
{
    private const string Columns = """
        run_id AS RunId, head_sha AS HeadSha, key_id AS KeyId, envelope AS Envelope, created_at AS CreatedAt
        """;

    /// <summary>Stores a run's attestation once; a second one for the same run is ignored (false).</summary>
    public Task<bool> StoreAsync(
        long runId,
        string headSha,
        string keyId,
        string envelope,
        CancellationToken ct = default
    ) =>
        db.WriteAsync(
            "server:attest",
            async w =>
            {
                var added = await w.ExecuteAsync(
                    """
                    INSERT INTO attestations (run_id, head_sha, key_id, envelope, created_at)
                    VALUES (@runId, @headSha, @keyId, @envelope, @now)
                    ON CONFLICT (run_id) DO NOTHING
                    """,
                    SqlArgs.Of(
                        new
                        {
                            runId,
                            headSha,
                            keyId,
                            envelope,
                            now = w.NowText,
                        }
                    )
                );
                if (added == 0)
                    return false;
                await w.AuditAsync(
                    "run.attested",
                    "run",
                    runId,
                    new JsonObject { ["head_sha"] = headSha, ["key_id"] = keyId }
                );
                return true;
            },
            ct
        );

    public Task<AttestationRow?> ForRunAsync(long runId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<AttestationRow>(
            $"SELECT {Columns} FROM attestations WHERE run_id = @runId",
            SqlArgs.Of(new { runId }),
            ct
        );

    /// <summary>The attestations of a head commit (several runs may share one head), newest first.</summary>
    public async Task<IReadOnlyList<AttestationRow>> ForHeadAsync(string headSha, CancellationToken ct = default) =>
        (
            await db.QueryAsync<AttestationRow>(
                $"SELECT {Columns} FROM attestations WHERE head_sha = @headSha ORDER BY run_id DESC",
                SqlArgs.Of(new { headSha }),
                ct
            )
        ).ToList();
}
