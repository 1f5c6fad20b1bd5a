using System.IO.Enumeration;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// Watches the space a command's writable folders (checkout, HOME, TMPDIR) take on the host's disk, twice a
/// second, and fires <see cref="Exceeded"/> once they pass the limit, so the command is killed. Why a watch: those
/// folders live on the host's disk and outlive one command (later commands use earlier ones' outputs), so neither
/// a per-command tmpfs nor a quota (root-only, per filesystem) fits; RLIMIT_FSIZE stops a single huge file at once.
/// </summary>
internal sealed class DiskWatch : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private readonly CancellationTokenSource exceeded = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    private DiskWatch(IReadOnlyList<string> folders, long limit) => loop = WatchAsync(folders, limit);

    public static DiskWatch Start(IReadOnlyList<string> folders, long limit) => new(folders, limit);

    /// <summary>Fires when the folders passed the limit.</summary>
    public CancellationToken Exceeded => exceeded.Token;

    /// <summary>The size measured when the limit was passed; null while it holds.</summary>
    public long? ExceededAt { get; private set; }

    private async Task WatchAsync(IReadOnlyList<string> folders, long limit)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                var used = folders.Sum(SizeOf);
                if (used <= limit)
                    continue;
                ExceededAt = used;
                await exceeded.CancelAsync();
                return;
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Bytes of the files below <paramref name="folder"/>; symlinks are not followed, vanishing files skipped.</summary>
    public static long SizeOf(string folder)
    {
        if (!Directory.Exists(folder))
            return 0;
        var files = new FileSystemEnumerable<long>(
            folder,
            (ref FileSystemEntry e) => e.IsDirectory ? 0 : e.Length,
            new EnumerationOptions
            {
                RecurseSubdirectories = true,
                IgnoreInaccessible = true,
                AttributesToSkip = 0,
            }
        )
        {
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        try
        {
            return files.Sum();
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
        exceeded.Dispose();
    }
}
