using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Validation;

/// <summary>
/// The ledger's side of MCP Tasks (README, "Waiting"): a task is a view of a validation job that the server
/// handed to a client instead of making it wait. It needs no table of its own: handing out a view, cancelling
/// it and (for clients that always want a task) an answer given at once are audit records, so every process
/// serving the ledger sees them and a restart loses nothing. The validation job itself is never touched here.
/// </summary>
public sealed class TaskViewLedger(LedgerDatabase db)
{
    public const string Created = "mcp_task.created";
    public const string Cancelled = "mcp_task.cancelled";
    public const string Answered = "mcp_task.answered";

    private byte[]? key;

    /// <summary>
    /// The ledger's task-id key (32 random bytes in <c>meta</c>, made on first use): task ids carry an HMAC
    /// under it, so they cannot be guessed from a job number, yet any process serving the ledger checks them.
    /// </summary>
    public async Task<byte[]> KeyAsync(CancellationToken ct = default)
    {
        if (key is not null)
            return key;
        var value = await db.WriteAsync(
            "server:tasks",
            async w =>
            {
                await w.ExecuteAsync(
                    "INSERT INTO meta (key, value) VALUES ('mcp_task_key', @value) ON CONFLICT (key) DO NOTHING",
                    SqlArgs.Of(new { value = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)) })
                );
                return await w.ScalarAsync<string>("SELECT value FROM meta WHERE key = 'mcp_task_key'");
            },
            ct
        );
        return key = Convert.FromHexString(value);
    }

    /// <summary>
    /// The view of <paramref name="jobId"/> a client holds now: its generation (how many earlier views were
    /// cancelled) and when it was handed out. A job whose every view was cancelled gets a new one.
    /// </summary>
    public Task<TaskViewEvent> OpenAsync(Caller caller, long jobId, CancellationToken ct = default) =>
        db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var counts = await CountsAsync(w, jobId);
                if (counts.Created == counts.Cancelled)
                    await w.AuditAsync(Created, "job", jobId, new JsonObject { ["generation"] = counts.Cancelled });
                return (
                    await w.SingleOrDefaultAsync<TaskViewEvent>(
                        TaskViewEvent.Select
                            + " WHERE entity = 'job' AND entity_id = @jobId AND action = @action ORDER BY seq DESC LIMIT 1",
                        SqlArgs.Of(new { jobId, action = Created })
                    )
                )!;
            },
            ct
        );

    /// <summary>How many views of the job were handed out and how many cancelled (a view is cancelled when both match).</summary>
    public async Task<(long Created, long Cancelled)> CountsAsync(long jobId, CancellationToken ct = default) =>
        Fold(await db.QueryAsync<(string Action, long Count)>(CountsSql, SqlArgs.Of(new { jobId }), ct));

    /// <summary>Cancels generation <paramref name="generation"/> of the job's view (once); the job runs on.</summary>
    public Task<bool> CancelAsync(Caller caller, long jobId, long generation, CancellationToken ct = default) =>
        db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var counts = await CountsAsync(w, jobId);
                if (counts.Cancelled != generation || counts.Created != generation + 1)
                    return false;
                await w.AuditAsync(
                    Cancelled,
                    "job",
                    jobId,
                    new JsonObject { ["generation"] = generation, ["job_continues"] = true }
                );
                return true;
            },
            ct
        );

    /// <summary>Records a tool result given at once to a client that asked for a task; returns the record's number.</summary>
    public Task<long> AnswerAsync(Caller caller, long? runId, JsonObject result, CancellationToken ct = default) =>
        db.WriteAsync(
            caller.Actor,
            async w =>
            {
                await w.AuditAsync(Answered, "run", runId, new JsonObject { ["result"] = result });
                return w.LastAudit!.Seq;
            },
            ct
        );

    /// <summary>Every view of the job handed out, oldest (generation 0) first.</summary>
    public async Task<IReadOnlyList<TaskViewEvent>> ListForJobAsync(long jobId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<TaskViewEvent>(
                TaskViewEvent.Select + " WHERE entity = 'job' AND entity_id = @jobId AND action = @action ORDER BY seq",
                SqlArgs.Of(new { jobId, action = Created }),
                ct
            )
        ).ToList();

    public Task<TaskViewEvent?> EventAsync(long seq, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<TaskViewEvent>(
            TaskViewEvent.Select + " WHERE seq = @seq",
            SqlArgs.Of(new { seq }),
            ct
        );

    /// <summary>
    /// The tasks handed out, oldest first after <paramref name="afterSeq"/>: every view of a job and every
    /// answer given at once; only <paramref name="actor"/>'s when one is named (a human lists all).
    /// </summary>
    public async Task<IReadOnlyList<TaskViewEvent>> ListAsync(
        string? actor,
        long afterSeq,
        int limit,
        CancellationToken ct = default
    ) =>
        (
            await db.QueryAsync<TaskViewEvent>(
                TaskViewEvent.Select
                    + " WHERE action IN ('mcp_task.created', 'mcp_task.answered') AND seq > @afterSeq"
                    + (actor is null ? "" : " AND actor = @actor")
                    + " ORDER BY seq LIMIT @limit",
                SqlArgs.Of(
                    new
                    {
                        actor,
                        afterSeq,
                        limit,
                    }
                ),
                ct
            )
        ).ToList();

    private const string CountsSql = """
        SELECT action AS Action, count(*) AS Count FROM audit
        WHERE entity = 'job' AND entity_id = @jobId AND action IN ('mcp_task.created', 'mcp_task.cancelled')
        GROUP BY action
        """;

    private static async Task<(long Created, long Cancelled)> CountsAsync(LedgerWrite w, long jobId) =>
        Fold(await w.QueryAsync<(string Action, long Count)>(CountsSql, SqlArgs.Of(new { jobId })));

    private static (long Created, long Cancelled) Fold(IEnumerable<(string Action, long Count)> rows)
    {
        var counts = rows.ToDictionary(r => r.Action, r => r.Count);
        return (counts.GetValueOrDefault(Created), counts.GetValueOrDefault(Cancelled));
    }
}
