using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Reviews;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Shipping;

/// <summary>
/// Shipping (DESIGN section 11): exactly one shipped event per run — a repeat returns the first — and
/// only when the merged head equals the SHA a human reviewed (or, on a line without review, the SHA the
/// server validated and the verifiers approved).
/// </summary>
public sealed class ShippingLedger(LedgerDatabase db)
{
    /// <summary>The SHA that may ship for a run, or an explanation of why nothing may ship yet.</summary>
    public async Task<string> ApprovedShaAsync(long runId, CancellationToken ct = default)
    {
        return await db.ReadAsync(async c =>
        {
            var run =
                await c.QuerySingleOrDefaultAsync<RunRow>(
                    RunRow.Select + " WHERE r.id = @runId",
                    SqlArgs.Of(new { runId }),
                    ct: ct
                ) ?? throw new LedgerException($"There is no run {runId}.");
            var task = await c.QuerySingleOrDefaultAsync<TaskRow>(
                "SELECT " + TaskRow.Columns + " FROM tasks t WHERE t.id = @id",
                SqlArgs.Of(new { id = run.TaskId }),
                ct: ct
            );
            return await ApprovedShaAsync(c, null, run, task!, ct);
        });
    }

    private static async Task<string> ApprovedShaAsync(
        System.Data.Common.DbConnection c,
        System.Data.Common.DbTransaction? tx,
        RunRow run,
        TaskRow task,
        CancellationToken ct
    )
    {
        if (task.State is not (TaskStates.Approved or TaskStates.Shipped))
            throw new LedgerException(
                $"Task {task.Id} is {task.State}; only an approved task ships (review it first: `factory review {run.Id} --outcome approve`)."
            );
        var latest = await c.QuerySingleOrDefaultAsync<long>(
            "SELECT max(id) FROM runs WHERE task_id = @taskId",
            SqlArgs.Of(new { taskId = task.Id }),
            tx,
            ct
        );
        if (latest != run.Id)
            throw new LedgerException($"Run {run.Id} is not task {task.Id}'s latest run ({latest}); ship that one.");
        var review = await c.QuerySingleOrDefaultAsync<ReviewRow>(
            ReviewRow.Select + " WHERE run_id = @runId AND outcome = 'approve' ORDER BY id DESC LIMIT 1",
            SqlArgs.Of(new { runId = run.Id }),
            tx,
            ct
        );
        return review?.ReviewedSha ?? run.HeadSha ?? throw new LedgerException($"Run {run.Id} has no head to ship.");
    }

    /// <summary>Appends the run's shipped event, or returns the one already recorded.</summary>
    public async Task<(ShippedEventRow Event, bool Created)> ShipAsync(
        string actor,
        long runId,
        string mergedSha,
        string source,
        string? prUrl,
        CancellationToken ct = default
    )
    {
        mergedSha = (mergedSha ?? "").Trim().ToLowerInvariant();
        if (!CommitSha.IsFull(mergedSha))
            throw new LedgerException($"'{mergedSha}' is not a full commit SHA; give the full SHA that was merged.");
        return await db.WriteAsync(
            actor,
            async w =>
            {
                var existing = await w.SingleOrDefaultAsync<ShippedEventRow>(
                    ShippedEventRow.Select + " WHERE run_id = @runId",
                    SqlArgs.Of(new { runId })
                );
                var run =
                    await w.SingleOrDefaultAsync<RunRow>(
                        RunRow.Select + " WHERE r.id = @runId",
                        SqlArgs.Of(new { runId })
                    ) ?? throw new LedgerException($"There is no run {runId}.");
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var approved = await ApprovedShaAsync(w.Connection, w.Transaction, run, task, w.Cancellation);
                if (mergedSha != approved)
                    throw new LedgerException(
                        $"The merged head {mergedSha} is not the reviewed SHA {approved} of run {runId}; nothing was recorded. Only the reviewed change ships — review the merged head, or merge exactly what was reviewed."
                    );
                if (existing is not null)
                    return (existing, false);
                var id = await w.ScalarAsync<long>(
                    """
                    INSERT INTO shipped_events (run_id, task_id, sha, environment, source, pr_url, shipped_at, recorded_by)
                    VALUES (@runId, @taskId, @sha, @environment, @source, @prUrl, @now, @actor) RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            runId,
                            taskId = task.Id,
                            sha = mergedSha,
                            environment = db.Environment,
                            source,
                            prUrl,
                            now = w.NowText,
                            actor,
                        }
                    )
                );
                await w.AuditAsync(
                    "shipped",
                    "shipped_event",
                    id,
                    new JsonObject
                    {
                        ["run_id"] = runId,
                        ["task_id"] = task.Id,
                        ["sha"] = mergedSha,
                        ["environment"] = db.Environment,
                        ["source"] = source,
                        ["pr_url"] = prUrl,
                    }
                );
                await StateMachine.MoveTaskAsync(
                    w,
                    task.Id,
                    TaskStates.Shipped,
                    "task.shipped",
                    new JsonObject
                    {
                        ["run_id"] = runId,
                        ["event_id"] = id,
                        ["sha"] = mergedSha,
                    }
                );
                return (
                    (
                        await w.SingleOrDefaultAsync<ShippedEventRow>(
                            ShippedEventRow.Select + " WHERE id = @id",
                            SqlArgs.Of(new { id })
                        )
                    )!,
                    true
                );
            },
            ct
        );
    }

    /// <summary>The run whose reviewed SHA is <paramref name="sha"/>, for a merged-PR webhook that only knows the head.</summary>
    public Task<long?> RunForShaAsync(string sha, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<long?>(
            """
            SELECT r.id FROM runs r JOIN tasks t ON t.id = r.task_id
            LEFT JOIN reviews v ON v.run_id = r.id AND v.outcome = 'approve'
            WHERE t.state IN ('approved', 'shipped') AND (v.reviewed_sha = @sha OR (v.id IS NULL AND r.head_sha = @sha))
            ORDER BY r.id DESC LIMIT 1
            """,
            SqlArgs.Of(new { sha }),
            ct: ct
        );

    public async Task<IReadOnlyList<ShippedEventRow>> EventsAsync(CancellationToken ct = default) =>
        (await db.QueryAsync<ShippedEventRow>(ShippedEventRow.Select + " ORDER BY id", ct: ct)).ToList();

    public async Task<ShippedEventRow> GetAsync(long eventId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<ShippedEventRow>(
            ShippedEventRow.Select + " WHERE id = @eventId",
            SqlArgs.Of(new { eventId }),
            ct: ct
        ) ?? throw new LedgerException($"There is no shipped event {eventId}.");
}
