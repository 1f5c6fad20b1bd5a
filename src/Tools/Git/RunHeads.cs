using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tools.Git;

/// <summary>
/// Turns an agent's work into a head commit on its run ref (<c>refs/factory/runs/ID</c>) in the server's
/// mirror, and checks condition 2 of the gate: a full SHA that descends from base and is reachable only
/// from this run's ref.
/// </summary>
public sealed class RunHeads(LedgerPaths paths, Mirrors mirrors)
{
    /// <summary>
    /// Snapshots the workspace without running anything of the agent's git: the mirror is GIT_DIR, the
    /// workspace only a work tree, and the index is a private file. Agents need no git write access.
    /// </summary>
    public async Task<string> SnapshotAsync(RunRow run, string repo, CancellationToken ct = default)
    {
        var workspace = run.Workspace ?? throw new LedgerException($"Run {run.Id} has no workspace to snapshot.");
        if (!Directory.Exists(workspace))
            throw new LedgerException(
                $"Run {run.Id}'s workspace {workspace} is gone; pass head_commit of a commit you pushed to {run.RunRef}, or ESCALATE."
            );
        var start = run.StartSha ?? run.BaseSha!;
        var mirror = mirrors.PathFor(repo);
        Directory.CreateDirectory(paths.Jobs);
        var index = Path.Combine(paths.Jobs, $"snapshot-{run.Id}-{Guid.NewGuid():N}.index");
        var options = new GitRunner.Options
        {
            GitDir = mirror,
            WorkTree = workspace,
            IndexFile = index,
            WorkingDirectory = workspace,
        };
        using var _ = await RepositoryLock.AcquireAsync(mirror, ct);
        try
        {
            await GitRunner.OutputAsync(["read-tree", start], options, ct);
            await GitRunner.OutputAsync(["add", "--all", "--", "."], options, ct);
            var tree = await GitRunner.OutputAsync(["write-tree"], options, ct);
            var startTree = await GitRunner.OutputAsync(
                ["rev-parse", start + "^{tree}"],
                new GitRunner.Options { GitDir = mirror },
                ct
            );
            var head =
                tree == startTree
                    ? start
                    : await GitRunner.OutputAsync(
                        ["commit-tree", tree, "-p", start, "-m", $"factory: snapshot of run {run.Id}'s workspace"],
                        new GitRunner.Options { GitDir = mirror, Extra = AuthorOf(run) },
                        ct
                    );
            await GitRunner.OutputAsync(
                ["update-ref", RunRef(run), head],
                new GitRunner.Options { GitDir = mirror },
                ct
            );
            return head;
        }
        finally
        {
            File.Delete(index);
        }
    }

    /// <summary>
    /// Takes a commit the agent made in its workspace: its branches are fetched into a private namespace
    /// of the mirror (git's hardening applies to the upload side too), the commit is pinned on the run ref.
    /// </summary>
    public async Task<string> FromWorkspaceAsync(
        RunRow run,
        string repo,
        string headCommit,
        CancellationToken ct = default
    )
    {
        var mirror = mirrors.PathFor(repo);
        var options = new GitRunner.Options { GitDir = mirror };
        if (!Directory.Exists(mirror))
            await mirrors.RefreshAsync(repo, ct); // declared on a process of a fleet that never saw the repository
        if (
            !await HasCommitAsync(options, headCommit, ct)
            && run.Workspace is { } workspace
            && Directory.Exists(workspace)
        )
            await FetchWorkspaceBranchesAsync(run, mirror, workspace, ct);
        if (!await HasCommitAsync(options, headCommit, ct))
        {
            // A remote agent works elsewhere and pushes its run ref to the repository's remote (DESIGN section 7).
            try
            {
                await mirrors.FetchRunRefAsync(repo, run.Id, ct);
            }
            catch (LedgerException)
            {
                // Not pushed (or not reachable): the refusal below says what to do.
            }
        }
        if (!await HasCommitAsync(options, headCommit, ct))
            throw new LedgerException(
                $"head_commit {headCommit} is not a commit on any branch of your workspace nor on {run.RunRef} of {repo}. Commit on your branch (or push `git push {repo} HEAD:{run.RunRef}` from elsewhere), or omit head_commit and the server snapshots the workspace."
            );
        using var _ = await RepositoryLock.AcquireAsync(mirror, ct);
        await GitRunner.OutputAsync(["update-ref", RunRef(run), headCommit], options, ct);
        return headCommit;
    }

    private static async Task<bool> HasCommitAsync(GitRunner.Options options, string sha, CancellationToken ct) =>
        (await GitRunner.RunAsync(["cat-file", "-e", sha + "^{commit}"], options, ct)).Succeeded;

    private static async Task FetchWorkspaceBranchesAsync(
        RunRow run,
        string mirror,
        string workspace,
        CancellationToken ct
    )
    {
        var incoming = $"refs/factory/incoming/{run.Id}";
        var options = new GitRunner.Options { GitDir = mirror };
        using var _ = await RepositoryLock.AcquireAsync(mirror, ct);
        try
        {
            var fetched = await GitRunner.RunAsync(
                [
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-recurse-submodules",
                    "--no-write-fetch-head",
                    workspace,
                    $"+refs/heads/*:{incoming}/*",
                ],
                options,
                ct
            );
            if (!fetched.Succeeded)
                throw new LedgerException(
                    $"Could not read the branches of your workspace: {fetched.StandardError.Trim()}"
                );
        }
        finally
        {
            var refs = await GitRunner.RunAsync(["for-each-ref", "--format=%(refname)", incoming + "/"], options, ct);
            foreach (var name in refs.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                await GitRunner.RunAsync(["update-ref", "-d", name], options, CancellationToken.None);
        }
    }

    /// <summary>Condition 2: every way the head is not acceptable, empty when it is.</summary>
    public async Task<IReadOnlyList<string>> ProblemsAsync(
        RunRow run,
        string repo,
        string head,
        CancellationToken ct = default
    )
    {
        var problems = new List<string>();
        var options = new GitRunner.Options { GitDir = mirrors.PathFor(repo) };
        if (!CommitSha.IsFull(head))
            return [$"head {head} is not a full commit SHA"];
        var descends = await GitRunner.RunAsync(["merge-base", "--is-ancestor", run.BaseSha!, head], options, ct);
        if (descends.ExitCode != 0)
            problems.Add($"head {head} does not descend from base {run.BaseSha}; rebase your work on base");
        var containing = await GitRunner.OutputAsync(
            ["for-each-ref", "--contains", head, "--format=%(refname)"],
            options,
            ct
        );
        var own = RunRef(run);
        var others = containing
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(r =>
                r != own
                && !r.StartsWith("refs/factory/tasks/", StringComparison.Ordinal)
                && !r.StartsWith("refs/factory/incoming/", StringComparison.Ordinal)
            )
            .ToList();
        if (others.Count > 0)
            problems.Add(
                $"head {head} is reachable from {string.Join(", ", others.Take(5))}{(others.Count > 5 ? ", …" : "")}, not only from this run's ref {own}: a head must be new work of this run"
            );
        return problems;
    }

    private static string RunRef(RunRow run) => run.RunRef ?? $"refs/factory/runs/{run.Id}";

    /// <summary>A snapshot's identity is fixed per run, so the same workspace content always gives the same commit (and cache hits).</summary>
    private static Dictionary<string, string?> AuthorOf(RunRow run) =>
        new()
        {
            ["GIT_AUTHOR_NAME"] = run.AgentName,
            ["GIT_AUTHOR_EMAIL"] = $"{run.AgentName}@factory.local",
            ["GIT_AUTHOR_DATE"] = $"@{run.OpenedAt.ToUnixTimeSeconds()} +0000",
            ["GIT_COMMITTER_DATE"] = $"@{run.OpenedAt.ToUnixTimeSeconds()} +0000",
        };
}
