using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tools.Hosting;

/// <summary>
/// Finds the ledger (DESIGN section 6): --ledger, else FACTORY_LEDGER, else <c>.factory/ledger.db</c> in
/// the main repository of the current directory (found through <c>git rev-parse --git-common-dir</c>,
/// so a linked worktree finds the same ledger).
/// </summary>
public static class LedgerLocator
{
    public static async Task<LedgerPaths> LocateAsync(
        string? ledgerOption,
        string? workingDirectory = null,
        CancellationToken ct = default
    )
    {
        var explicitPath = ledgerOption ?? Environment.GetEnvironmentVariable("FACTORY_LEDGER");
        if (!string.IsNullOrWhiteSpace(explicitPath))
            return new LedgerPaths(Path.GetFullPath(explicitPath));

        var cwd = workingDirectory ?? Environment.CurrentDirectory;
        var result = await GitRunner.RunAsync(
            ["rev-parse", "--path-format=absolute", "--git-common-dir"],
            new GitRunner.Options { WorkingDirectory = cwd },
            ct
        );
        if (!result.Succeeded)
            throw new LedgerException(
                $"{cwd} is not inside a git repository, so there is no default ledger location. Run from your repository, or pass --ledger PATH (or set FACTORY_LEDGER)."
            );
        var commonDir = result.StandardOutput.Trim();
        var root =
            Path.GetFileName(commonDir.TrimEnd('/')) == ".git"
                ? Path.GetDirectoryName(commonDir.TrimEnd('/'))!
                : commonDir;
        return new LedgerPaths(Path.Combine(root, ".factory", "ledger.db"));
    }
}
