using System.Buffers;
using CliWrap;

namespace FactoryMcp.Tools.Processes;

/// <summary>
/// A process's output as it arrives: stdout and stderr apart and interleaved, each bounded head and tail, and
/// the whole interleaved output byte for byte in a file when one is given. Reading stops at end of stream, or
/// a grace period after the process exited (a detached grandchild may hold the pipes open for ever). The file
/// keeps at most <c>fileLimit</c> bytes; past that, output is still read (and its tail kept in memory) but only
/// counted, so a command printing gigabytes never holds more than the capture limits in memory or on disk.
/// </summary>
internal sealed class CapturedOutput(int limit, string? file, long fileLimit) : IDisposable
{
    private long fileBytes;

    private readonly FileStream? whole = file is null
        ? null
        : new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.Read);
    private readonly CancellationTokenSource stopReading = new();

    public BoundedCapture StandardOutput { get; } = new(limit);
    public BoundedCapture StandardError { get; } = new(limit);
    public BoundedCapture Combined { get; } = new(limit);

    /// <summary>Whether the file stopped at its limit (the output went on past it).</summary>
    public bool FileTruncated { get; private set; }

    /// <summary>A CliWrap pipe target that feeds <paramref name="own"/>, the interleaved capture and the file.</summary>
    public PipeTarget Into(BoundedCapture own) => PipeTarget.Create((origin, _) => CopyAsync(origin, own));

    /// <summary>Called once the process exited: whatever still holds its pipes gets <paramref name="grace"/> more.</summary>
    public void StopReadingAfter(TimeSpan grace)
    {
        try
        {
            stopReading.CancelAfter(grace);
        }
        catch (ObjectDisposedException)
        {
            // The run already ended (its killed child never reported its exit): nothing is read any more.
        }
    }

    // CliWrap's own token is ignored on purpose: after a timeout kill, output already in the pipe is still read.
    private async Task CopyAsync(Stream origin, BoundedCapture own)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await origin.ReadAsync(buffer, stopReading.Token);
                }
                catch (OperationCanceledException) when (stopReading.IsCancellationRequested)
                {
                    return;
                }
                if (read == 0)
                    return;
                var data = buffer.AsSpan(0, read);
                own.Append(data);
                lock (Combined)
                {
                    Combined.Append(data);
                    WriteToFile(data);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Called under the Combined lock.
    private void WriteToFile(ReadOnlySpan<byte> data)
    {
        if (whole is null)
            return;
        var room = (int)Math.Min(fileLimit - fileBytes, data.Length);
        if (room > 0)
        {
            whole.Write(data[..room]);
            fileBytes += room;
        }
        if (room < data.Length)
            FileTruncated = true;
    }

    public void Dispose()
    {
        lock (Combined)
            whole?.Dispose();
        stopReading.Dispose();
    }
}
