using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Evidence;

namespace FactoryMcp.Tools.Verification;

/// <summary>The server-computed diff of a run (base...head, from its validation), served in pages so no result exceeds the size budget.</summary>
public sealed class DiffPages(EvidenceLedger evidence, BlobStore blobs)
{
    public const int PageChars = 40_000;

    public sealed record Page(long RunId, int Number, int Count, string Text);

    public async Task<Page> GetAsync(long runId, int page, CancellationToken ct = default)
    {
        var diff =
            (await evidence.ForRunAsync(runId, ct)).LastOrDefault(e =>
                e.Kind == EvidenceKinds.Diff && e.Origin == Origins.Server
            )
            ?? throw new LedgerException(
                $"Run {runId} has no server-computed diff yet (it appears once the run has been validated)."
            );
        var text = diff.BlobSha is { } sha ? Encoding.UTF8.GetString(blobs.Read(sha)) : diff.Content ?? "";
        var count = Math.Max(1, (text.Length + PageChars - 1) / PageChars);
        if (page < 1 || page > count)
            throw new LedgerException($"Page {page} does not exist; the diff of run {runId} has {count} page(s).");
        var start = (page - 1) * PageChars;
        return new Page(runId, page, count, text.Substring(start, Math.Min(PageChars, text.Length - start)));
    }
}
