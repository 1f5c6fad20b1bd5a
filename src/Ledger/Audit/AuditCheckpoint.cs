using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Audit;

/// <summary>
/// A signed statement of the audit chain's head (<c>factory ledger checkpoint</c>): the ledger's id, the last
/// record's number and HMAC, when, and an HMAC of all of that under the audit key. Kept anywhere outside the
/// ledger (a ticket, a commit, another host), it anchors the chain: a later rewrite or truncation of the records
/// up to it cannot match it, and whoever holds the key can check that the checkpoint itself is genuine.
/// </summary>
public sealed record AuditCheckpoint(string LedgerId, long Seq, string Head, string At, string Signature)
{
    public override string ToString() =>
        $"factory-checkpoint v1 ledger={LedgerId} seq={Seq} head={Head} at={At} signature={Signature}";

    public static async Task<AuditCheckpoint> TakeAsync(LedgerDatabase db, CancellationToken ct = default)
    {
        var tail = await db.QuerySingleOrDefaultAsync<AuditChain.Tail>(
            "SELECT seq AS Seq, hmac AS Hmac FROM audit ORDER BY seq DESC LIMIT 1",
            ct: ct
        );
        var ledgerId = db.ReadMeta("ledger_id") ?? "unknown";
        var seq = tail?.Seq ?? 0;
        var head = tail?.Hmac ?? AuditChain.Genesis;
        var at = Iso.Text(db.Now);
        return new AuditCheckpoint(ledgerId, seq, head, at, Sign(db.Audit, ledgerId, seq, head, at));
    }

    /// <summary>Whether this checkpoint was signed with the ledger's key and names a record the ledger still holds unchanged.</summary>
    public async Task<bool> HoldsAsync(LedgerDatabase db, CancellationToken ct = default)
    {
        if (Sign(db.Audit, LedgerId, Seq, Head, At) != Signature)
            return false;
        if (Seq == 0)
            return true;
        var hmac = await db.QuerySingleOrDefaultAsync<string>(
            "SELECT hmac FROM audit WHERE seq = @seq",
            SqlArgs.Of(new { seq = Seq }),
            ct
        );
        return hmac == Head;
    }

    private static string Sign(AuditChain chain, string ledgerId, long seq, string head, string at) =>
        chain.Sign("checkpoint", $"{ledgerId}\n{seq}\n{head}\n{at}");
}
