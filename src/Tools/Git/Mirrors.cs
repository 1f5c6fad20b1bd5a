using System.Security.Cryptography;
using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tools.Git;

/// <summary>
/// The server's private bare mirror of each repository, kept in the ledger folder. Agents never get
/// it: their workspaces are standalone clones that do not point back at it.
/// </summary>
public sealed class Mirrors(LedgerPaths paths)
{
    public static bool IsUrl(string repo) =>
        repo.Contains("://", StringComparison.Ordinal)
        || (repo.Contains('@') && repo.Contains(':') && !repo.StartsWith('/'));

    public string PathFor(string repo)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(repo)))[..12].ToLowerInvariant();
        var name = new string(
            Path.GetFileName(repo.TrimEnd('/'))
                .Replace(".git", "")
                .Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
                .Take(40)
                .ToArray()
        );
        return Path.Combine(paths.Mirrors, $"{(name.Length == 0 ? "repo" : name)}-{hash}.git");
    }

    /// <summary>Creates the mirror or fetches into it, under the repository lock.</summary>
    public async Task<string> RefreshAsync(string repo, CancellationToken ct = default)
    {
        try
        {
            return await FetchAllAsync(repo, ct);
        }
        catch (GitException e)
        {
            throw Unreachable(repo, e.Message);
        }
    }

    /// <summary>
    /// The refusal of a process that cannot fetch a repository: it names the repository, the host and the state
    /// folder, since in a fleet every process fetches into its own mirror (README, "A fleet of replicas").
    /// </summary>
    public LedgerException Unreachable(string repo, string why) =>
        new(
            $"This factory process (host {Environment.MachineName}, state folder {paths.Folder}) cannot fetch the repository {repo}: {why}. Every process of a fleet fetches the repository into its own mirror: give this host access to it (a URL it can reach and its credentials, or the same local path on every host)."
        );

    /// <summary>
    /// Before a validation on any process of a fleet: the mirror has <paramref name="baseSha"/> and, when given,
    /// <paramref name="head"/>. A missing base fetches the repository; a missing head fetches the run's ref
    /// (as a remote agent pushed it), and must then name that head.
    /// </summary>
    public async Task EnsureCommitsAsync(
        string repo,
        long runId,
        string baseSha,
        string? head,
        CancellationToken ct = default
    )
    {
        var mirror = PathFor(repo);
        var options = new GitRunner.Options { GitDir = mirror };
        if (!Directory.Exists(mirror) || !await HasCommitAsync(options, baseSha, ct))
            await RefreshAsync(repo, ct);
        if (!await HasCommitAsync(options, baseSha, ct))
            throw Unreachable(repo, $"its base commit {baseSha} is not on it");
        if (head is null || await HasCommitAsync(options, head, ct))
            return;
        var fetched = await FetchRunRefAsync(repo, runId, ct);
        if (!await HasCommitAsync(options, head, ct))
            throw new LedgerException(
                $"Run {runId}'s head {head} is not in this process's mirror of {repo} (host {Environment.MachineName}), and the run's ref there names {fetched}. In a fleet an agent pushes its work (`git push {repo} HEAD:refs/factory/runs/{runId}`) and declares with head_commit, so any process can validate it."
            );
    }

    /// <summary>
    /// Before preparing a run that continues an earlier attempt (a hand-off, a retry, an expired lease): the mirror
    /// has <paramref name="start"/>, the head that attempt left. In a fleet another process may have validated that
    /// head, fetched from the run ref a remote agent pushed to the repository, so this process's mirror lacks it: a
    /// missing start fetches the repository's run refs (into <c>refs/factory/fetched/runs/*</c>, apart from this
    /// mirror's own run refs) and must then hold it.
    /// </summary>
    public async Task EnsureStartAsync(string repo, long runId, string start, CancellationToken ct = default)
    {
        var mirror = PathFor(repo);
        var options = new GitRunner.Options { GitDir = mirror };
        if (await HasCommitAsync(options, start, ct))
            return;
        using (await RepositoryLock.AcquireAsync(mirror, ct))
        {
            var fetched = await GitRunner.RunAsync(
                [
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-recurse-submodules",
                    "origin",
                    "+refs/factory/runs/*:refs/factory/fetched/runs/*",
                ],
                options,
                ct
            );
            if (!fetched.Succeeded)
                throw Unreachable(repo, $"fetching its run refs failed ({fetched.StandardError.Trim()})");
        }
        if (!await HasCommitAsync(options, start, ct))
            throw new LedgerException(
                $"Run {runId} continues from {start}, the head an earlier attempt left, but this process's mirror of {repo} (host {Environment.MachineName}) lacks it and no run ref on the repository names it: another process of the fleet snapshotted it from a workspace on its own host. Claim the task on that process, or have agents of a fleet push their work (`git push {repo} HEAD:refs/factory/runs/<run id>`) and declare with head_commit."
            );
    }

    private static async Task<bool> HasCommitAsync(GitRunner.Options options, string sha, CancellationToken ct) =>
        (await GitRunner.RunAsync(["cat-file", "-e", sha + "^{commit}"], options, ct)).Succeeded;

    private async Task<string> FetchAllAsync(string repo, CancellationToken ct)
    {
        var mirror = PathFor(repo);
        Directory.CreateDirectory(paths.Mirrors);
        using var _ = await RepositoryLock.AcquireAsync(mirror, ct);
        if (!Directory.Exists(mirror))
        {
            var temp = mirror + ".new-" + Guid.NewGuid().ToString("N")[..8];
            await GitRunner.OutputAsync(["init", "--bare", "--quiet", "--template=", temp], ct: ct);
            var config = new GitRunner.Options { GitDir = temp };
            await GitRunner.OutputAsync(["config", "remote.origin.url", repo], config, ct);
            await GitRunner.OutputAsync(["config", "uploadpack.allowAnySHA1InWant", "true"], config, ct);
            await GitRunner.OutputAsync(["config", "core.logAllRefUpdates", "false"], config, ct);
            Directory.Move(temp, mirror);
        }
        await GitRunner.OutputAsync(
            [
                "fetch",
                "--quiet",
                "--prune",
                "--no-recurse-submodules",
                "origin",
                "+refs/heads/*:refs/heads/*",
                "+refs/tags/*:refs/tags/*",
                "+refs/remotes/origin/*:refs/factory/upstream/*",
            ],
            new GitRunner.Options { GitDir = mirror },
            ct
        );
        if (!IsUrl(repo))
        {
            // The mirror's HEAD follows the source's branch, for the default base.
            var head = await GitRunner.RunAsync(
                ["symbolic-ref", "-q", "HEAD"],
                new GitRunner.Options { WorkingDirectory = repo },
                ct
            );
            if (head.Succeeded)
                await GitRunner.RunAsync(
                    ["symbolic-ref", "HEAD", head.StandardOutput.Trim()],
                    new GitRunner.Options { GitDir = mirror },
                    ct
                );
        }
        else
        {
            await GitRunner.RunAsync(
                ["remote", "set-head", "origin", "--auto"],
                new GitRunner.Options { GitDir = mirror },
                ct
            );
        }
        return mirror;
    }

    /// <summary>
    /// Resolves a packet's <c>base</c> to a full SHA in the mirror. Without one: the remote's default
    /// branch (the source's origin/HEAD) if it has one, else the source's HEAD.
    /// </summary>
    public async Task<string> ResolveBaseAsync(string repo, string? baseRef, CancellationToken ct = default)
    {
        var mirror = await RefreshAsync(repo, ct);
        var options = new GitRunner.Options { GitDir = mirror };
        var candidates = new List<string>();
        if (!string.IsNullOrWhiteSpace(baseRef))
        {
            if (baseRef.StartsWith('-'))
                throw new LedgerException($"base '{baseRef}' is not a valid revision.");
            candidates.AddRange([
                $"refs/heads/{baseRef}",
                $"refs/tags/{baseRef}",
                $"refs/factory/upstream/{baseRef}",
                baseRef,
            ]);
        }
        else
        {
            var originHead = await GitRunner.RunAsync(
                ["symbolic-ref", "-q", "refs/remotes/origin/HEAD"],
                IsUrl(repo) ? options : new GitRunner.Options { WorkingDirectory = repo },
                ct
            );
            if (originHead.Succeeded && !IsUrl(repo))
                candidates.Add(
                    "refs/factory/upstream/" + originHead.StandardOutput.Trim()["refs/remotes/origin/".Length..]
                );
            candidates.Add("HEAD");
        }
        foreach (var candidate in candidates)
        {
            var result = await GitRunner.RunAsync(
                ["rev-parse", "--verify", "--quiet", "--end-of-options", candidate + "^{commit}"],
                options,
                ct
            );
            if (result.Succeeded)
                return result.StandardOutput.Trim();
        }
        throw new LedgerException(
            string.IsNullOrWhiteSpace(baseRef)
                ? $"Repository {repo} has no commit to use as base (is it empty?). Commit something first or set `base:`."
                : $"base '{baseRef}' names no branch, tag or commit in {repo}. Use an existing branch, tag or full SHA."
        );
    }

    /// <summary>
    /// Fetches a remote agent's work: <c>refs/factory/runs/&lt;id&gt;</c> as the agent pushed it to the
    /// repository (its clone URL) into the same ref of the server's private mirror, and returns the
    /// commit it now names. The terminal-state gate calls this before validating a remote run.
    /// </summary>
    public async Task<string> FetchRunRefAsync(string repo, long runId, CancellationToken ct = default)
    {
        var refName = $"refs/factory/runs/{runId.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        var mirror = PathFor(repo);
        if (!Directory.Exists(mirror))
            mirror = await RefreshAsync(repo, ct);
        using var _ = await RepositoryLock.AcquireAsync(mirror, ct);
        var options = new GitRunner.Options { GitDir = mirror };
        var listed = await GitRunner.RunAsync(["ls-remote", "--exit-code", "origin", refName], options, ct);
        if (listed.ExitCode == 2)
            throw new LedgerException(
                $"Run {runId}'s ref {refName} is not on {repo}. Push your work there (`git push {repo} HEAD:{refName}`), then declare again."
            );
        if (!listed.Succeeded)
            throw Unreachable(repo, $"`git ls-remote` for {refName} failed ({listed.StandardError.Trim()})");
        await GitRunner.OutputAsync(
            ["fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "origin", $"+{refName}:{refName}"],
            options,
            ct
        );
        return await GitRunner.OutputAsync(["rev-parse", "--verify", refName + "^{commit}"], options, ct);
    }

    /// <summary>Points a ref under refs/factory/ at a commit, under the repository lock.</summary>
    public async Task UpdateRefAsync(string repo, string refName, string sha, CancellationToken ct = default)
    {
        if (!refName.StartsWith("refs/factory/", StringComparison.Ordinal))
            throw new ArgumentException("Only refs/factory/* are ours to write.", nameof(refName));
        var mirror = PathFor(repo);
        using var _ = await RepositoryLock.AcquireAsync(mirror, ct);
        await GitRunner.OutputAsync(["update-ref", refName, sha], new GitRunner.Options { GitDir = mirror }, ct);
    }
}
