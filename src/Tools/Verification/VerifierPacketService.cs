using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Verification;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tools.Verification;

/// <summary>What a verifier receives: the artifact and nothing about its maker.</summary>
public sealed record VerifierPacket(
    string Status,
    long? RunId,
    long? TaskId,
    string? Role,
    string? Checkout,
    string? HeadSha,
    string? BaseSha,
    string? LeaseExpiresAt,
    int DiffPages,
    string Markdown
);

/// <summary>
/// A verifier's get_task_packet: claims (under a lease) the next run awaiting its role and hands over
/// only the artifact — the packet without lessons, the server-computed diff (paged), the server-observed
/// validation and reproduction, and a read-only tree at head with no git history. Never the builder's
/// name, summary, claims, commit messages, or other verdicts.
/// </summary>
public sealed class VerifierPacketService(
    VerificationLedger verifications,
    TaskLedger tasks,
    EvidenceLedger evidence,
    DiffPages diffs,
    Mirrors mirrors,
    Workspaces workspaces,
    LedgerPaths paths
)
{
    public async Task<VerifierPacket> GetAsync(Caller caller, CancellationToken ct = default)
    {
        foreach (var stale in await verifications.SweepAsync(ct))
            workspaces.Remove(stale);
        var claim = await verifications.ClaimAsync(caller, ct);
        if (claim is null)
            return new VerifierPacket(
                "empty",
                null,
                null,
                caller.VerifierRole,
                null,
                null,
                null,
                null,
                0,
                $"Queue empty: no accepted run is waiting for a {caller.VerifierRole} verdict. Check again later; this is a normal result."
            );
        var checkout = claim.Verification.Checkout;
        if (checkout is null || !Directory.Exists(checkout))
        {
            checkout = Path.Combine(paths.RunsFolder, $"verify-{claim.Verification.Id}");
            try
            {
                await Checkouts.CreateReadOnlyTreeAsync(
                    mirrors.PathFor(claim.Task.Repo),
                    claim.Run.HeadSha!,
                    checkout,
                    ct
                );
            }
            catch (Exception e) when (e is LedgerException or IOException)
            {
                await verifications.ReleaseAsync(claim.Verification.Id, CancellationToken.None);
                throw new LedgerException(
                    $"Could not prepare the read-only tree of run {claim.Run.Id} ({e.Message}); the claim was released. Try again."
                );
            }
            await verifications.SetCheckoutAsync(claim.Verification.Id, checkout, ct);
        }
        var packet = await tasks.GetPacketAsync(claim.Task.Id, claim.Run.PacketVersion, ct);
        var server = (await evidence.ForRunAsync(claim.Run.Id, ct)).Where(e => e.Origin == Origins.Server).ToList();
        var diffPage = await diffs.GetAsync(claim.Run.Id, 1, ct);
        var lease = claim.Verification.LeaseExpiresAt is { } until ? Iso.Text(until) : null;

        var sb = new StringBuilder();
        sb.AppendLine(
            $"# Verify run {claim.Run.Id} ({claim.Status}) as {caller.VerifierRole} — task {claim.Task.Id}: {claim.Task.Title}"
        );
        sb.AppendLine();
        sb.AppendLine(
            $"- Read-only tree at head `{claim.Run.HeadSha}`: `{checkout}` (no git history: judge the artifact)."
        );
        sb.AppendLine($"- Base `{claim.Run.BaseSha}`. Your claim's lease runs until {lease}.");
        sb.AppendLine(
            $"- Finish with submit_verdict(run_id: {claim.Run.Id}, verdict: approve | reject | needs_human, findings). Other verdicts stay hidden until yours is in."
        );
        sb.AppendLine();
        sb.AppendLine("## The task packet").AppendLine().AppendLine(packet.Markdown).AppendLine();
        foreach (var kind in new[] { EvidenceKinds.TestOutput, EvidenceKinds.Reproduction })
        {
            if (server.LastOrDefault(e => e.Kind == kind) is not { } item)
                continue;
            sb.AppendLine($"## Server-observed {(kind == EvidenceKinds.TestOutput ? "validation" : "reproduction")}")
                .AppendLine(item.Summary)
                .AppendLine()
                .AppendLine(item.Content)
                .AppendLine();
        }
        if (server.LastOrDefault(e => e.Kind == EvidenceKinds.Diff) is { } diff)
            sb.AppendLine("## Diff summary (server)").AppendLine(diff.Content).AppendLine();
        sb.AppendLine(
            $"## Diff, page 1 of {diffPage.Count}{(diffPage.Count > 1 ? $" (read the rest at factory://runs/{claim.Run.Id}/diff?page=N)" : "")}"
        );
        sb.AppendLine("```diff").AppendLine(diffPage.Text).AppendLine("```");
        return new VerifierPacket(
            claim.Status,
            claim.Run.Id,
            claim.Task.Id,
            caller.VerifierRole,
            checkout,
            claim.Run.HeadSha,
            claim.Run.BaseSha,
            lease,
            diffPage.Count,
            sb.ToString()
        );
    }
}
