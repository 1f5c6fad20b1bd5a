using System.Diagnostics;

namespace FactoryMcp.Bench.Dispatch;

/// <summary>The disk's own pace: 4 KiB appended and fsync'd, in a loop. A synchronous=FULL commit needs at least one.</summary>
internal static class FsyncRate
{
    public static double Measure(string directory, TimeSpan duration)
    {
        var path = Path.Combine(directory, $"fsync-{Guid.NewGuid():N}.bin");
        var block = new byte[4096];
        var count = 0;
        try
        {
            using var stream = new FileStream(
                path,
                FileMode.CreateNew,
                FileAccess.Write,
                FileShare.None,
                1,
                FileOptions.None
            );
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                stream.Write(block);
                stream.Flush(flushToDisk: true);
                count++;
            }
            return count / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
