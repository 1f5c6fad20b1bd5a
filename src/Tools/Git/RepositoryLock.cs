namespace FactoryMcp.Tools.Git;

/// <summary>
/// A per-repository lock across processes (an exclusive lock on a file beside the mirror) that
/// serializes every git change to one mirror: fetches, ref updates, snapshots.
/// </summary>
public sealed class RepositoryLock : IDisposable
{
    private readonly FileStream stream;

    private RepositoryLock(FileStream stream) => this.stream = stream;

    public static async Task<RepositoryLock> AcquireAsync(string mirror, CancellationToken ct = default)
    {
        var path = mirror.TrimEnd('/') + ".lock";
        var deadline = Environment.TickCount64 + 120_000;
        while (true)
        {
            try
            {
                return new RepositoryLock(
                    new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
                );
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                await Task.Delay(20, ct);
            }
        }
    }

    public void Dispose() => stream.Dispose();
}
