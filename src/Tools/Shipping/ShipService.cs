using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Shipping;
using FactoryMcp.Tools.Notifications;

namespace FactoryMcp.Tools.Shipping;

/// <summary>
/// Every way a change ships — mark_shipped, `factory ship`, a merged-PR webhook — goes through here: the
/// ledger appends the event (once per run, only the reviewed SHA), a new event is announced, and the
/// process's content bridge is woken to draft it.
/// </summary>
public sealed class ShipService(ShippingLedger shipping, Notifier notifier, Action onShipped)
{
    public async Task<(ShippedEventRow Event, bool Created)> ShipAsync(
        string actor,
        long runId,
        string sha,
        string source,
        string? prUrl,
        CancellationToken ct = default
    )
    {
        var (shipped, created) = await shipping.ShipAsync(actor, runId, sha, source, prUrl, ct);
        if (created)
            onShipped();
        if (created)
            await notifier.NotifyAsync(
                "shipped",
                new JsonObject
                {
                    ["event_id"] = shipped.Id,
                    ["run_id"] = runId,
                    ["task_id"] = shipped.TaskId,
                    ["sha"] = shipped.Sha,
                    ["environment"] = shipped.Environment,
                    ["pr_url"] = prUrl,
                    ["source"] = source,
                },
                CancellationToken.None
            );
        return (shipped, created);
    }

    /// <summary>
    /// A merged pull request: the run is named by a factory branch (<c>factory/TASK-RUN</c>), else found by
    /// its reviewed SHA. It ships only when the merged head equals the reviewed SHA; otherwise the reason is returned.
    /// </summary>
    public async Task<string> ShipMergedPullAsync(
        string? headRef,
        string headSha,
        string? prUrl,
        CancellationToken ct = default
    )
    {
        long? runId = null;
        if (headRef is { } branch && branch.StartsWith("factory/", StringComparison.Ordinal))
        {
            var parts = branch["factory/".Length..].Split('-');
            if (parts.Length == 2 && long.TryParse(parts[1], out var id))
                runId = id;
        }
        runId ??= await shipping.RunForShaAsync(headSha, ct);
        if (runId is not { } run)
            return "no factory run was reviewed at that head; nothing shipped";
        try
        {
            var (shipped, created) = await ShipAsync("hook:github", run, headSha, "webhook", prUrl, ct);
            return created
                ? $"run {run} shipped as event {shipped.Id}"
                : $"run {run} already shipped as event {shipped.Id}";
        }
        catch (Ledger.LedgerException e)
        {
            return $"run {run} not shipped: {e.Message}";
        }
    }
}
