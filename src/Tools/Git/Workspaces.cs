using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tools.Git;

/// <summary>
/// Run workspaces: standalone clones (not linked worktrees) in the runs folder, holding only the
/// history of the run's starting commit, with no remote pointing back at the server's mirror.
/// </summary>
public sealed class Workspaces(LedgerPaths paths, Mirrors mirrors)
{
    public static string BranchName(long runId) => $"factory/run-{runId}";

    /// <summary>Prepares the workspace of a freshly claimed run and points its run ref at the start commit.</summary>
    public async Task<string> PrepareAsync(RunRow run, string repo, CancellationToken ct = default)
    {
        var workspace = run.Workspace ?? paths.Workspace(run.Id);
        var start = run.StartSha ?? run.BaseSha ?? throw new InvalidOperationException($"Run {run.Id} has no base.");
        var mirror = mirrors.PathFor(repo);
        // This process's mirror may predate the task (approved by another process of a fleet): fetch if it lacks base.
        await mirrors.EnsureCommitsAsync(repo, run.Id, run.BaseSha ?? start, null, ct);
        // A run continuing an earlier attempt starts from that attempt's head, which may be on another process's mirror.
        if (start != (run.BaseSha ?? start))
            await mirrors.EnsureStartAsync(repo, run.Id, start, ct);
        Directory.CreateDirectory(paths.RunsFolder);
        if (Directory.Exists(workspace))
            Directory.Delete(workspace, recursive: true);
        await GitRunner.OutputAsync(["init", "--quiet", "--template=", workspace], ct: ct);
        var here = new GitRunner.Options { WorkingDirectory = workspace };
        await GitRunner.OutputAsync(
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-recurse-submodules",
                mirror,
                $"{start}:refs/heads/{BranchName(run.Id)}",
                $"{run.BaseSha ?? start}:refs/heads/factory/base",
            ],
            here,
            ct
        );
        await GitRunner.OutputAsync(["checkout", "--quiet", BranchName(run.Id)], here, ct);
        await GitRunner.OutputAsync(["config", "user.name", run.AgentName], here, ct);
        await GitRunner.OutputAsync(["config", "user.email", $"{run.AgentName}@factory.local"], here, ct);
        await mirrors.UpdateRefAsync(repo, run.RunRef ?? $"refs/factory/runs/{run.Id}", start, ct);
        return workspace;
    }

    public void Remove(string workspace)
    {
        // Only folders inside the runs folder are ours to delete.
        var full = Path.GetFullPath(workspace);
        if (!full.StartsWith(paths.RunsFolder.TrimEnd('/') + "/", StringComparison.Ordinal))
            return;
        Checkouts.Delete(full);
    }
}
