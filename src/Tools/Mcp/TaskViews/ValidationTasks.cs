using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tools.Mcp.TaskViews;

/// <summary>
/// MCP Tasks over the durable validation job (README, "Waiting"): a thin adapter. The job decides the run
/// exactly as the blocking call's wait would (<see cref="DeclarationService.OutcomeAsync"/>); a task only
/// reports it. Cancelling a task cancels the view, never the job. An agent sees only its own tasks; a
/// human sees all; anything else is "no such task", so ids of others' tasks leak nothing.
/// </summary>
internal sealed class ValidationTasks(
    TaskViewLedger views,
    ValidationJobLedger jobs,
    RunLedger runs,
    DeclarationService gate
)
{
    public const int PageSize = 50;

    /// <summary>Hands the job out as a task (the view a client already holds, or a new one after a cancellation).</summary>
    public async Task<TaskView> OpenAsync(Caller caller, ValidationJobRow job, CancellationToken ct)
    {
        var created = await views.OpenAsync(caller, job.Id, ct);
        return await JobViewAsync(job.Id, Generation(created), created.At, withResult: false, ct);
    }

    /// <summary>A result given at once, recorded as a completed task (for clients that asked for a task and must get one).</summary>
    public async Task<TaskView> AnswerAsync(Caller caller, CallToolResult result, CancellationToken ct)
    {
        var node = JsonSerializer.SerializeToNode(result, TaskWire.ResultType)!.AsObject();
        var runId =
            result.StructuredContent is { ValueKind: JsonValueKind.Object } s
            && s.TryGetProperty("run_id", out var r)
            && r.TryGetInt64(out var id)
                ? id
                : (long?)null;
        var seq = await views.AnswerAsync(caller, runId, node, ct);
        return AnswerView(await views.KeyAsync(ct), (await views.EventAsync(seq, ct))!, withResult: false);
    }

    /// <summary>The task's status, and its result when <paramref name="withResult"/> and it is finished (which delivers the outcome).</summary>
    public async Task<TaskView> GetAsync(Caller caller, string? taskId, bool withResult, CancellationToken ct)
    {
        var key = await views.KeyAsync(ct);
        switch (TaskIds.Parse(key, taskId))
        {
            case ("job", var jobId, var generation):
                var job = await FindJobAsync(jobId, ct);
                if (job is null || !await MayReadAsync(caller, job, ct))
                    throw NotFound(taskId);
                var opened = (await views.ListForJobAsync(jobId, ct)).ElementAtOrDefault((int)generation);
                if (opened is null)
                    throw NotFound(taskId);
                return await JobViewAsync(jobId, generation, opened.At, withResult, ct);
            case ("now", var seq, _):
                if (
                    await views.EventAsync(seq, ct) is { Action: TaskViewLedger.Answered } answer
                    && MayRead(caller, answer)
                )
                    return AnswerView(key, answer, withResult);
                throw NotFound(taskId);
            default:
                throw NotFound(taskId);
        }
    }

    /// <summary>Waits (at most declare_wait_seconds) for the task to finish, then returns it with its result.</summary>
    public async Task<TaskView> ResultAsync(Caller caller, string? taskId, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var finished = gate.NextFinished;
            var view = await GetAsync(caller, taskId, withResult: true, ct);
            if (view.Terminal)
                return view;
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) >= gate.Wait)
                throw new McpProtocolException(
                    $"Task {taskId} is still working ({view.StatusMessage}) after {(int)gate.Wait.TotalSeconds}s; nothing changed. Poll tasks/get and ask for the result once it is completed.",
                    McpErrorCode.InvalidRequest
                );
            await gate.NextLookAsync(finished, started, ct);
        }
    }

    /// <summary>
    /// Cancels the view (once); the validation job runs on and still decides the run. A finished task is
    /// returned as it is, unchanged.
    /// </summary>
    public async Task<TaskView> CancelAsync(Caller caller, string? taskId, CancellationToken ct)
    {
        var view = await GetAsync(caller, taskId, withResult: false, ct);
        if (view.Terminal)
            return view; // finished (or cancelled) already: nothing to cancel
        var (_, jobId, generation) = TaskIds.Parse(await views.KeyAsync(ct), taskId)!.Value;
        await views.CancelAsync(caller, jobId, generation, ct);
        return await GetAsync(caller, taskId, withResult: false, ct);
    }

    /// <summary>The caller's tasks (a human's: everyone's), oldest first, a page at a time.</summary>
    public async Task<(IReadOnlyList<TaskView> Tasks, string? NextCursor)> ListAsync(
        Caller caller,
        string? cursor,
        CancellationToken ct
    )
    {
        if (!caller.IsHuman && caller.Role != Roles.Agent)
            return ([], null);
        long after = 0;
        if (cursor is not null && !long.TryParse(cursor, out after))
            throw new McpProtocolException(
                $"The cursor '{cursor}' is not one tasks/list gave; nothing was listed. Omit it to start from the first task.",
                McpErrorCode.InvalidParams
            );
        var key = await views.KeyAsync(ct);
        var events = await views.ListAsync(caller.IsHuman ? null : caller.Actor, after, PageSize + 1, ct);
        var list = new List<TaskView>();
        foreach (var e in events.Take(PageSize))
            list.Add(
                e.Action == TaskViewLedger.Answered
                    ? AnswerView(key, e, withResult: false)
                    : await JobViewAsync(e.EntityId!.Value, Generation(e), e.At, withResult: false, ct)
            );
        return (list, events.Count > PageSize ? events[PageSize - 1].Seq.ToString() : null);
    }

    private async Task<TaskView> JobViewAsync(
        long jobId,
        long generation,
        DateTimeOffset createdAt,
        bool withResult,
        CancellationToken ct
    )
    {
        var id = TaskIds.ForJob(await views.KeyAsync(ct), jobId, generation);
        var job = await jobs.GetAsync(jobId, ct);
        var updated = job.FinishedAt ?? job.StartedAt ?? job.CreatedAt;
        if (updated < createdAt)
            updated = createdAt;
        if ((await views.CountsAsync(jobId, ct)).Cancelled > generation)
            return new TaskView(
                id,
                TaskView.Cancelled,
                $"This task was cancelled, but not validation job {job.Id}: it runs on and decides run {job.RunId}. Call declare_terminal_state again with the same arguments for its outcome.",
                createdAt,
                updated
            );
        if (!job.Finished)
            return new TaskView(id, TaskView.Working, $"Validating ({gate.Progress(job)}).", createdAt, updated);
        var message = $"Validation job {job.Id} finished: {job.State}.";
        if (!withResult)
            return new TaskView(id, TaskView.Completed, message, createdAt, updated);
        try
        {
            var (_, outcome) = await gate.OutcomeAsync(jobId, ct);
            return new TaskView(id, TaskView.Completed, message, createdAt, updated, DeclarationTools.Reply(outcome!));
        }
        catch (LedgerException e)
        {
            return new TaskView(id, TaskView.Completed, message, createdAt, updated, ToolReply.Refused(e));
        }
    }

    private static TaskView AnswerView(byte[] key, TaskViewEvent answer, bool withResult)
    {
        var result = withResult
            ? JsonNode.Parse(answer.Body)!["change"]!["result"].Deserialize(TaskWire.ResultType)
            : null;
        return new TaskView(
            TaskIds.ForAnswer(key, answer.Seq),
            TaskView.Completed,
            "Answered at once: this declaration needed no validation.",
            answer.At,
            answer.At,
            result
        );
    }

    private async Task<ValidationJobRow?> FindJobAsync(long jobId, CancellationToken ct)
    {
        try
        {
            return await jobs.GetAsync(jobId, ct);
        }
        catch (LedgerException)
        {
            return null;
        }
    }

    private async Task<bool> MayReadAsync(Caller caller, ValidationJobRow job, CancellationToken ct) =>
        caller.IsHuman || (caller.Role == Roles.Agent && (await runs.GetAsync(job.RunId, ct)).AgentName == caller.Name);

    private static bool MayRead(Caller caller, TaskViewEvent answer) => caller.IsHuman || answer.Actor == caller.Actor;

    private static long Generation(TaskViewEvent created) =>
        JsonNode.Parse(created.Body)!["change"]!["generation"]!.GetValue<long>();

    private static McpProtocolException NotFound(string? taskId) =>
        new(
            $"Failed to retrieve task: there is no task '{taskId}' of yours. Task ids come from a tools/call that answered with a task; tasks/list shows yours. Nothing changed.",
            McpErrorCode.InvalidParams
        );
}
