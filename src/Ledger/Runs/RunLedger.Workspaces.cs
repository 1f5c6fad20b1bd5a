using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Runs;

/// <summary>A workspace the garbage collector may reclaim, and why.</summary>
public sealed record ReclaimableWorkspace(
    long RunId,
    long TaskId,
    string Workspace,
    string Reason,
    DateTimeOffset EndedAt
);

public sealed partial class RunLedger
{
    /// <summary>
    /// Workspaces of runs that no agent will use again: the run is closed and its task ended more than
    /// the task's keep_days ago (or, with <paramref name="evenIfRecent"/>, ended at all), oldest first.
    /// Live runs and tasks still in flight are never listed.
    /// </summary>
    public async Task<IReadOnlyList<ReclaimableWorkspace>> ReclaimableWorkspacesAsync(
        bool evenIfRecent,
        CancellationToken ct = default
    )
    {
        var rows = await db.QueryAsync<(
            long RunId,
            long TaskId,
            string Workspace,
            string RunState,
            string TaskState,
            string TaskUpdated,
            string? SettingsJson
        )>(
            """
            SELECT r.id, t.id, r.workspace, r.state, t.state, t.updated_at, t.settings_json
            FROM runs r JOIN tasks t ON t.id = r.task_id
            WHERE r.workspace IS NOT NULL AND r.state NOT IN ('open', 'validating')
            ORDER BY t.updated_at, r.id
            """,
            ct: ct
        );
        var list = new List<ReclaimableWorkspace>();
        foreach (var row in rows)
        {
            if (!TaskStates.IsFinal(row.TaskState))
                continue;
            var ended = Iso.Parse(row.TaskUpdated);
            var keepDays = row.SettingsJson is { } json ? TaskSettings.FromJson(json).KeepDays : 7;
            var due = ended.AddDays(keepDays) <= db.Now;
            if (due || evenIfRecent)
                list.Add(
                    new ReclaimableWorkspace(
                        row.RunId,
                        row.TaskId,
                        row.Workspace,
                        due
                            ? $"task {row.TaskState} more than {keepDays} day(s) ago"
                            : $"task {row.TaskState}; over the space budget",
                        ended
                    )
                );
        }
        return list;
    }
}
