using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Hooks;

/// <summary>Webhook deliveries, each handled once, and the merged pull requests they report.</summary>
public sealed class HookLedger(LedgerDatabase db)
{
    public sealed record MergedPull(
        string Repo,
        long Number,
        string Title,
        string? Url,
        string? HeadRef,
        string HeadSha,
        string? MergeSha,
        string? BaseRef,
        DateTimeOffset? MergedAt,
        string? MergedBy
    );

    public sealed record MergedPullRow
    {
        public required long Id { get; init; }
        public required string Repo { get; init; }
        public required long Number { get; init; }
        public required string HeadSha { get; init; }
        public string? MergeSha { get; init; }
        public required string DeliveryId { get; init; }
    }

    /// <summary>Claims a delivery id; false when it was already seen (a redelivery or a replay).</summary>
    public async Task<bool> ClaimDeliveryAsync(
        string source,
        string deliveryId,
        string @event,
        string? action,
        CancellationToken ct = default
    ) =>
        await db.WriteAsync(
            $"hook:{source}",
            async w =>
                await w.ExecuteAsync(
                    """
                    INSERT INTO hook_deliveries (delivery_id, source, event, action, received_at, outcome)
                    VALUES (@deliveryId, @source, @event, @action, @now, 'processing')
                    ON CONFLICT (delivery_id) DO NOTHING
                    """,
                    SqlArgs.Of(
                        new
                        {
                            deliveryId,
                            source,
                            @event,
                            action,
                            now = w.NowText,
                        }
                    )
                ) == 1,
            ct
        );

    public Task CompleteDeliveryAsync(string deliveryId, string outcome, CancellationToken ct = default) =>
        db.WriteAsync(
            "hook",
            w =>
                w.ExecuteAsync(
                    "UPDATE hook_deliveries SET outcome = @outcome WHERE delivery_id = @deliveryId",
                    SqlArgs.Of(new { outcome, deliveryId })
                ),
            ct
        );

    /// <summary>Forgets a delivery whose handling failed, so the sender's redelivery is processed.</summary>
    public Task ReleaseDeliveryAsync(string deliveryId, CancellationToken ct = default) =>
        db.WriteAsync(
            "hook",
            w =>
                w.ExecuteAsync(
                    "DELETE FROM hook_deliveries WHERE delivery_id = @deliveryId",
                    SqlArgs.Of(new { deliveryId })
                ),
            ct
        );

    public Task<long> DeliveryCountAsync(CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM hook_deliveries", ct: ct);

    /// <summary>Records a merged pull request once per (repo, number), with its audit record.</summary>
    public async Task<bool> RecordMergedPullAsync(string deliveryId, MergedPull pull, CancellationToken ct = default)
    {
        if (!CommitSha.IsFull(pull.HeadSha))
            throw new LedgerException(
                $"Pull request {pull.Repo}#{pull.Number} has no full head SHA; nothing was recorded."
            );
        return await db.WriteAsync(
            "hook:github",
            async w =>
            {
                var id = await w.SingleOrDefaultAsync<long?>(
                    """
                    INSERT INTO merged_pull_requests (repo, number, title, url, head_ref, head_sha, merge_sha, base_ref, merged_at, merged_by, delivery_id, recorded_at)
                    VALUES (@Repo, @Number, @Title, @Url, @HeadRef, @HeadSha, @MergeSha, @BaseRef, @mergedAt, @MergedBy, @deliveryId, @now)
                    ON CONFLICT (repo, number) DO NOTHING
                    RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            pull.Repo,
                            pull.Number,
                            pull.Title,
                            pull.Url,
                            pull.HeadRef,
                            pull.HeadSha,
                            pull.MergeSha,
                            pull.BaseRef,
                            mergedAt = pull.MergedAt is { } m ? Iso.Text(m) : null,
                            pull.MergedBy,
                            deliveryId,
                            now = w.NowText,
                        }
                    )
                );
                if (id is null)
                    return false;
                await w.AuditAsync(
                    "pull_request.merged",
                    "merged_pull_request",
                    id,
                    new JsonObject
                    {
                        ["repo"] = pull.Repo,
                        ["number"] = pull.Number,
                        ["head_sha"] = pull.HeadSha,
                        ["merge_sha"] = pull.MergeSha,
                        ["delivery_id"] = deliveryId,
                    }
                );
                return true;
            },
            ct
        );
    }

    public async Task<IReadOnlyList<MergedPullRow>> MergedPullsAsync(CancellationToken ct = default) =>
        (
            await db.QueryAsync<MergedPullRow>(
                "SELECT id AS Id, repo AS Repo, number AS Number, head_sha AS HeadSha, merge_sha AS MergeSha, delivery_id AS DeliveryId FROM merged_pull_requests ORDER BY id",
                ct: ct
            )
        ).ToList();
}
