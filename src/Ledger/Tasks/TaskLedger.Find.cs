using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Queries;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Tasks;

public sealed partial class TaskLedger
{
    /// <summary>
    /// Tasks newest first by the human's filters: state, line, an agent that ran it, changed since, words
    /// in the title. Paged by id (<see cref="LedgerQuery.BeforeId"/>).
    /// </summary>
    public async Task<IReadOnlyList<TaskRow>> FindAsync(LedgerQuery query, CancellationToken ct = default)
    {
        if (query.State is not null && !TaskStates.All.Contains(query.State))
            throw new LedgerException(
                $"State '{query.State}' is not a task state; use one of {string.Join(", ", TaskStates.All)}."
            );
        const string sql =
            SelectTask
            + """
                 WHERE (@state IS NULL OR t.state = @state)
                   AND (@line IS NULL OR t.line = @line)
                   AND (@agent IS NULL OR EXISTS (SELECT 1 FROM runs r JOIN agents a ON a.id = r.agent_id WHERE r.task_id = t.id AND a.name = @agent))
                   AND (@since IS NULL OR t.updated_at >= @since)
                   AND (@pattern IS NULL OR lower(t.title) LIKE @pattern ESCAPE '\')
                   AND (@beforeId IS NULL OR t.id < @beforeId)
                 ORDER BY t.id DESC LIMIT @limit
                """;
        return (await db.QueryAsync<TaskRow>(sql, query.Parameters, ct)).ToList();
    }

    /// <summary>
    /// Runs newest first by the same filters (state is a run state; line and text are the task's; since is
    /// when the run opened), each with its task's title.
    /// </summary>
    public async Task<IReadOnlyList<(RunRow Run, string Title, string Line)>> FindRunsAsync(
        LedgerQuery query,
        CancellationToken ct = default
    )
    {
        if (query.State is not null && !RunStates.All.Contains(query.State))
            throw new LedgerException(
                $"State '{query.State}' is not a run state; use one of {string.Join(", ", RunStates.All)}."
            );
        const string sql =
            RunRow.Select
            + """
                 JOIN tasks t ON t.id = r.task_id
                 WHERE (@state IS NULL OR r.state = @state)
                   AND (@line IS NULL OR t.line = @line)
                   AND (@agent IS NULL OR a.name = @agent)
                   AND (@since IS NULL OR r.opened_at >= @since)
                   AND (@pattern IS NULL OR lower(t.title) LIKE @pattern ESCAPE '\')
                   AND (@beforeId IS NULL OR r.id < @beforeId)
                 ORDER BY r.id DESC LIMIT @limit
                """;
        var rows = await db.QueryAsync<RunRow>(sql, query.Parameters, ct);
        var list = rows.ToList();
        // The page's tasks in one query, not one per run.
        var tasks = (
            await db.QueryAsync<TaskRow>(
                new Sql(SelectTask + " WHERE t.id IN @ids", SelectTask + " WHERE t.id = ANY(@ids)"),
                SqlArgs.Of(new { ids = list.Select(r => r.TaskId).Distinct().ToArray() }),
                ct
            )
        ).ToDictionary(t => t.Id);
        return list.Select(run => (run, tasks[run.TaskId].Title, tasks[run.TaskId].Line)).ToList();
    }
}
