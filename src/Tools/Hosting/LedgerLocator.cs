using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Settings;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.PostgreSql;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tools.Hosting;

/// <summary>
/// Finds the ledger (DESIGN section 6): --ledger, else FACTORY_LEDGER, else <c>ledger:</c> in
/// <c>.factory/factory.yaml</c>, else <c>.factory/ledger.db</c> in the main repository of the current directory
/// (found through <c>git rev-parse --git-common-dir</c>, so a linked worktree finds the same ledger). A
/// <c>postgresql://</c> URL selects PostgreSQL; anything else is a SQLite file. A PostgreSQL ledger keeps this
/// host's state (audit key and head, mirrors, workspaces) in FACTORY_STATE, else the repository's <c>.factory</c>.
/// </summary>
public static class LedgerLocator
{
    public const string StateVariable = "FACTORY_STATE";

    public static async Task<LedgerPaths> LocateAsync(
        string? ledgerOption,
        string? workingDirectory = null,
        CancellationToken ct = default
    )
    {
        var explicitLedger = ledgerOption ?? Environment.GetEnvironmentVariable("FACTORY_LEDGER");
        if (!string.IsNullOrWhiteSpace(explicitLedger))
        {
            if (!PostgresLocation.IsUrl(explicitLedger))
                return new LedgerPaths(Path.GetFullPath(explicitLedger));
            var location = PostgresLocation.Parse(explicitLedger);
            return new LedgerPaths(location, await StateFolderAsync(workingDirectory, ct));
        }

        var folder = await DefaultFolderAsync(workingDirectory, ct);
        var configured = FactorySettings.Load(Path.Combine(folder, "factory.yaml")).Ledger;
        if (string.IsNullOrWhiteSpace(configured))
            return new LedgerPaths(Path.Combine(folder, "ledger.db"));
        if (PostgresLocation.IsUrl(configured))
            return new LedgerPaths(
                PostgresLocation.Parse(configured),
                Environment.GetEnvironmentVariable(StateVariable) is { Length: > 0 } state
                    ? Path.GetFullPath(state)
                    : folder
            );
        return new LedgerPaths(Path.GetFullPath(configured, folder));
    }

    private static async Task<string> StateFolderAsync(string? workingDirectory, CancellationToken ct)
    {
        if (Environment.GetEnvironmentVariable(StateVariable) is { Length: > 0 } state)
            return Path.GetFullPath(state);
        try
        {
            return await DefaultFolderAsync(workingDirectory, ct);
        }
        catch (LedgerException)
        {
            throw new LedgerException(
                $"A PostgreSQL ledger keeps this host's state (audit key and head, mirrors, workspaces) in a folder: run from your repository (its .factory folder), or set {StateVariable} to a folder."
            );
        }
    }

    /// <summary>The <c>.factory</c> folder of the main repository holding the current directory.</summary>
    private static async Task<string> DefaultFolderAsync(string? workingDirectory, CancellationToken ct)
    {
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
        return Path.Combine(root, ".factory");
    }
}
