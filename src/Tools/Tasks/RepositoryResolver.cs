using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Settings;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tools.Tasks;

/// <summary>
/// Resolves a packet's <c>repo</c> (DESIGN section 2): absent means the repository holding the ledger;
/// a relative path resolves against that repository's folder and must lie under allowed_repo_roots;
/// a URL is mirrored by the server.
/// </summary>
public sealed class RepositoryResolver(LedgerPaths paths, Func<FactorySettings> settings)
{
    public async Task<string> ResolveAsync(string? repo, CancellationToken ct = default)
    {
        if (!string.IsNullOrWhiteSpace(repo) && Mirrors.IsUrl(repo))
        {
            if (repo.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
                return await ResolveLocalAsync(new Uri(repo).LocalPath, repo, ct);
            if (
                !repo.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                && !repo.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase)
                && !repo.Contains('@')
            )
                throw new LedgerException(
                    $"repo '{repo}' uses a scheme the server does not mirror; use https://, ssh://, git@host:path, file:// or a path."
                );
            return repo;
        }
        var path = string.IsNullOrWhiteSpace(repo)
            ? paths.ProjectRoot
            : Path.GetFullPath(Path.Combine(paths.ProjectRoot, repo));
        return await ResolveLocalAsync(path, repo ?? "(the ledger's repository)", ct);
    }

    private async Task<string> ResolveLocalAsync(string path, string written, CancellationToken ct)
    {
        var real =
            WorkspaceFile.RealPath(path)
            ?? throw new LedgerException(
                $"repo {written} resolves to {path}, which does not exist. Fix `repo:` (relative paths resolve against {paths.ProjectRoot})."
            );
        var roots = AllowedRoots();
        if (!roots.Any(root => WorkspaceFile.IsInside(root, real)))
            throw new LedgerException(
                $"repo {written} resolves to {real}, outside the allowed repository roots ({string.Join(", ", roots)}). A human can add a root under allowed_repo_roots in {paths.FactoryConfig}."
            );
        // A bare repository has no top level (rev-parse --show-toplevel fails there), so ask separately.
        var bare = await GitRunner.RunAsync(
            ["rev-parse", "--is-bare-repository"],
            new GitRunner.Options { WorkingDirectory = real },
            ct
        );
        if (bare.Succeeded && bare.StandardOutput.Trim() == "true")
            return real;
        var check = await GitRunner.RunAsync(
            ["rev-parse", "--is-bare-repository", "--show-toplevel"],
            new GitRunner.Options { WorkingDirectory = real },
            ct
        );
        if (!check.Succeeded)
            throw new LedgerException(
                written.StartsWith('(')
                    ? $"The packet has no `repo:` and {real}, the folder holding the ledger, is not a git repository. Set `repo:` in the front matter."
                    : $"repo {written} ({real}) is not a git repository."
            );
        var lines = check.StandardOutput.Trim().Split('\n');
        if (lines[0] == "true")
            return real;
        var top = lines.Length > 1 ? lines[1].Trim() : real;
        if (top != real)
            throw new LedgerException(
                $"repo {written} ({real}) is inside the repository {top} but not its root; point `repo:` at {top}."
            );
        return real;
    }

    public IReadOnlyList<string> AllowedRoots()
    {
        var configured = settings().AllowedRepoRoots;
        var roots = configured.Count > 0 ? configured : [Path.GetDirectoryName(paths.ProjectRoot) ?? paths.ProjectRoot];
        return roots.Select(r => WorkspaceFile.RealPath(r) ?? r).ToList();
    }
}
