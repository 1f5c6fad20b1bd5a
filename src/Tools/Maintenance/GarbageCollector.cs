using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tools.Maintenance;

/// <summary>What `factory gc` reclaimed (or would, with --dry-run).</summary>
public sealed record GcReport(
    IReadOnlyList<(string Path, long Bytes, string Reason)> Removed,
    long BytesBefore,
    long BytesAfter,
    bool DryRun
);

/// <summary>
/// `factory gc [--dry-run]` (DESIGN section 6): deletes workspaces of ended tasks once their line's
/// keep_days have passed, then — oldest first — more ended tasks' workspaces while the runs folder is over
/// max_workspace_bytes; also leftovers of validation checkouts and verifier trees no claim uses. Workspaces
/// of live runs are never touched.
/// </summary>
public sealed class GarbageCollector(
    RunLedger runs,
    ValidationJobLedger jobs,
    Workspaces workspaces,
    ConfigFiles config,
    LedgerPaths paths,
    Ledger.Telemetry.ToolCallLedger toolCalls
)
{
    public async Task<GcReport> CollectAsync(bool dryRun, CancellationToken ct = default)
    {
        var runsFolder = paths.RunsFolder;
        var before = SizeOf(runsFolder);
        var size = before;
        var removed = new List<(string, long, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var collectedRuns = new List<long>();
        void Remove(string path, string reason)
        {
            if (!Directory.Exists(path) || !seen.Add(path))
                return;
            var bytes = SizeOf(path);
            if (!dryRun)
                workspaces.Remove(path);
            removed.Add((path, bytes, reason));
            size -= bytes;
        }

        foreach (var w in await runs.ReclaimableWorkspacesAsync(evenIfRecent: false, ct))
            if (Directory.Exists(w.Workspace))
            {
                Remove(w.Workspace, $"run {w.RunId}: {w.Reason}");
                collectedRuns.Add(w.RunId);
            }
        var budget = config.Settings.MaxWorkspaceBytes;
        if (size > budget)
        {
            foreach (var w in await runs.ReclaimableWorkspacesAsync(evenIfRecent: true, ct))
            {
                if (size <= budget)
                    break;
                if (!Directory.Exists(w.Workspace))
                    continue;
                Remove(w.Workspace, $"run {w.RunId}: {w.Reason}");
                collectedRuns.Add(w.RunId);
            }
        }
        // Validation checkouts of jobs no process runs any more (a killed server's leftovers).
        var validation = Path.Combine(runsFolder, ".validation");
        if (Directory.Exists(validation) && !await jobs.HasPendingAsync(ct))
            foreach (var dir in Directory.GetDirectories(validation))
                Remove(dir, "validation checkout left by a stopped server");
        // The tool calls of those runs go with their workspaces (diagnostics for the run timeline).
        if (!dryRun)
            await toolCalls.DeleteForRunsAsync(collectedRuns, ct);
        return new GcReport(removed, before, dryRun ? before : SizeOf(runsFolder), dryRun);
    }

    private static long SizeOf(string path)
    {
        if (!Directory.Exists(path))
            return 0;
        long total = 0;
        foreach (
            var file in Directory.EnumerateFiles(
                path,
                "*",
                new EnumerationOptions
                {
                    RecurseSubdirectories = true,
                    AttributesToSkip = FileAttributes.ReparsePoint,
                    IgnoreInaccessible = true,
                }
            )
        )
        {
            try
            {
                total += new FileInfo(file).Length;
            }
            catch (IOException) { }
        }
        return total;
    }
}
