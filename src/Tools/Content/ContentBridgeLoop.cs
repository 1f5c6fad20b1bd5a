using Microsoft.Extensions.Logging;

namespace FactoryMcp.Tools.Content;

/// <summary>
/// The content bridge as a long-running server runs it, beside its validation worker: a shipped event
/// becomes drafts with no `factory content drain`. A ship in this process wakes it at once; events shipped
/// by other processes (the CLI, another server) are found within <see cref="Period"/>.
/// </summary>
public sealed partial class ContentBridgeLoop(ContentBridge bridge, ILogger logger)
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim wake = new(0);

    /// <summary>Tells the loop an event was just shipped.</summary>
    public void Nudge() => wake.Release();

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var report = await bridge.DrainPendingAsync(ct);
                if (report.DraftsCreated > 0 || report.ContentPackets > 0)
                    LogDrafted(logger, report.Events, report.DraftsCreated, report.ContentPackets);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFailed(logger, e);
            }
            try
            {
                await wake.WaitAsync(Period, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Content bridge: {Events} shipped event(s), {Drafts} new draft(s), {Packets} content packet(s)"
    )]
    private static partial void LogDrafted(ILogger logger, int events, int drafts, int packets);

    [LoggerMessage(Level = LogLevel.Error, Message = "The content bridge failed; it will retry")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
