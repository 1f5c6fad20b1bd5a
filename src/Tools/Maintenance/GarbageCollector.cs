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
/// of live runs are never touched. Several collectors may run at once on one host (the fleet's processes): each
/// folder is deleted by exactly one of them.
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
        bool Remove(string path, string reason)
        {
            if (!Directory.Exists(path) || !seen.Add(path))
                return false;
            if (dryRun)
            {
                var would = SizeOf(path);
                removed.Add((path, would, reason));
                size -= would;
                return true;
            }
            // Another collector on this host (a second `factory gc`, another replica's) may be at the same folder:
            // the one whose rename lands deletes it, the other skips it.
            if (Claim(path) is not { } taken)
                return false;
            var bytes = SizeOf(taken);
            workspaces.Remove(taken);
            removed.Add((path, bytes, reason));
            size -= bytes;
            return true;
        }

        if (!dryRun)
            RemoveAbandonedTrash();

        foreach (var w in await runs.ReclaimableWorkspacesAsync(evenIfRecent: false, ct))
            if (Remove(w.Workspace, $"run {w.RunId}: {w.Reason}"))
                collectedRuns.Add(w.RunId);
        var budget = config.Settings.MaxWorkspaceBytes;
        if (size > budget)
        {
            foreach (var w in await runs.ReclaimableWorkspacesAsync(evenIfRecent: true, ct))
            {
                if (size <= budget)
                    break;
                if (Remove(w.Workspace, $"run {w.RunId}: {w.Reason}"))
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

    private string Trash => Path.Combine(paths.RunsFolder, ".trash");

    /// <summary>
    /// Takes <paramref name="path"/> for this collector alone by renaming it into <c>runs/.trash</c> under a name
    /// holding this process's id: a rename is atomic, so of two collectors at once exactly one gets the folder.
    /// Null when another collector (or anything else) took it first.
    /// </summary>
    private string? Claim(string path)
    {
        Directory.CreateDirectory(Trash);
        var taken = Path.Combine(Trash, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.Move(path, taken);
            return taken;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Folders a collector took but did not finish deleting because its process died: their names carry a process id
    /// no longer running on this host. Each is taken again (the rename decides between collectors) and deleted.
    /// </summary>
    private void RemoveAbandonedTrash()
    {
        if (!Directory.Exists(Trash))
            return;
        foreach (var dir in Directory.GetDirectories(Trash))
        {
            var name = Path.GetFileName(dir);
            var dash = name.IndexOf('-');
            if (
                dash <= 0
                || !int.TryParse(name.AsSpan(0, dash), out var pid)
                || pid == Environment.ProcessId
                || Directory.Exists($"/proc/{pid}")
            )
                continue;
            if (Claim(dir) is { } taken)
                workspaces.Remove(taken);
        }
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
