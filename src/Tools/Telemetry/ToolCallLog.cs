using System.Collections.Concurrent;
using System.Diagnostics;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Telemetry;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// The record of tool calls on runs that the run timeline draws. A call only enqueues its record (a clock read
/// and a lock-free enqueue: no ledger write on the call's path); <see cref="RunAsync"/> writes what is queued
/// every <see cref="FlushPeriod"/>, and the hosts flush once more when they stop. Diagnostics, not acknowledged
/// writes: a crash loses what was still queued, at most about a second of calls. Past <see cref="MaxQueued"/>
/// queued records (the ledger unreachable for a while) new ones are dropped and counted.
/// </summary>
public sealed class ToolCallLog(ToolCallLedger ledger, TimeProvider clock, ILogger logger)
{
    public static readonly TimeSpan FlushPeriod = TimeSpan.FromSeconds(1);
    public const int MaxQueued = 20_000;

    private readonly ConcurrentQueue<ToolCallRecord> queue = new();
    private readonly SemaphoreSlim flushing = new(1, 1);
    private int queued;
    private long dropped;

    /// <summary>Records lost because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    public void Add(ToolCallRecord call)
    {
        if (Interlocked.Increment(ref queued) > MaxQueued)
        {
            Interlocked.Decrement(ref queued);
            Interlocked.Increment(ref dropped);
            return;
        }
        queue.Enqueue(call);
    }

    /// <summary>Writes every queued record (in batches of at most 500); a failed batch is logged and dropped.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        await flushing.WaitAsync(ct);
        try
        {
            while (!queue.IsEmpty)
            {
                var batch = new List<ToolCallRecord>();
                while (batch.Count < 500 && queue.TryDequeue(out var call))
                    batch.Add(call);
                Interlocked.Add(ref queued, -batch.Count);
                try
                {
                    await ledger.AppendAsync(batch, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Writing {Count} tool call record(s) failed; they are dropped", batch.Count);
                }
            }
        }
        finally
        {
            flushing.Release();
        }
    }

    /// <summary>Flushes every <see cref="FlushPeriod"/> until <paramref name="ct"/> ends, then once more.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(FlushPeriod, ct);
                await FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) { }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>
    /// The filter that records each call concerning a run (its run_id argument, or the run its result names): the
    /// tool, the caller, the start on the ledger's clock, the duration, and <c>tool_error</c> or the exception's
    /// type when refused. Never the arguments or the result.
    /// </summary>
    public McpRequestFilter<CallToolRequestParams, CallToolResult> Filter(Caller caller) =>
        next =>
            async (context, ct) =>
            {
                var startedAt = clock.GetUtcNow();
                var started = Stopwatch.GetTimestamp();
                CallToolResult? result = null;
                string? error = null;
                try
                {
                    return result = await next(context, ct);
                }
                catch (Exception e)
                {
                    error = e.GetType().Name;
                    throw;
                }
                finally
                {
                    if (result is { IsError: true })
                        error ??= "tool_error";
                    if (ToolCallSpans.RunIdOf(context.Params, result) is { } runId)
                        Add(
                            new ToolCallRecord(
                                runId,
                                context.Params?.Name ?? "",
                                caller.Name,
                                startedAt,
                                (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                                error
                            )
                        );
                }
            };
}
