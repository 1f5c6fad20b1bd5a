using System.Buffers;
using CliWrap;

namespace FactoryMcp.Tools.Processes;

/// <summary>
/// A process's output as it arrives: stdout and stderr apart and interleaved, each bounded head and tail, and
/// the whole interleaved output byte for byte in a file when one is given. Reading stops at end of stream, or
/// a grace period after the process exited (a detached grandchild may hold the pipes open for ever).
/// </summary>
internal sealed class CapturedOutput(int limit, string? file) : IDisposable
{
    private readonly FileStream? whole = file is null
        ? null
        : new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.Read);
    private readonly CancellationTokenSource stopReading = new();

    public BoundedCapture StandardOutput { get; } = new(limit);
    public BoundedCapture StandardError { get; } = new(limit);
    public BoundedCapture Combined { get; } = new(limit);

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
                    whole?.Write(data);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        lock (Combined)
            whole?.Dispose();
        stopReading.Dispose();
    }
}
