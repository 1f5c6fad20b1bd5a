using FactoryMcp.Ledger.Fleet;
using FactoryMcp.Tools.Gate;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Tools.Fleet;

/// <summary>
/// This process in the fleet registry: registers, writes a heartbeat every period with its validation counts, and
/// marks itself stopped on a clean exit. A ledger that stops answering (PostgreSQL restarting) is logged once and
/// retried every period until it answers again, which is logged too.
/// </summary>
public sealed partial class FleetMember(
    FleetLedger fleet,
    ValidationWorker worker,
    string role,
    bool validates,
    string version,
    TimeSpan period,
    ILogger logger
)
{
    /// <summary>This process's registry id: the owner its validation worker writes on the jobs it takes.</summary>
    public string Id => worker.Owner;

    /// <summary>Registers once, so a ledger that refuses the process says so before it serves anything.</summary>
    public Task RegisterAsync(CancellationToken ct) => fleet.RegisterAsync(Id, role, version, validates, period, ct);

    /// <summary>Heartbeats until <paramref name="ct"/> ends, then marks the process stopped.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var failing = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                if (!await fleet.HeartbeatAsync(Id, worker.JobsRunning, worker.JobsDone, ct))
                    await RegisterAsync(ct);
                if (failing)
                    LogReconnected(logger, Id);
                failing = false;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                if (!failing)
                    LogUnreachable(logger, e, Id);
                failing = true;
            }
        }
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await fleet.StopAsync(Id, worker.JobsRunning, worker.JobsDone, bounded.Token);
        }
        catch (Exception e)
        {
            LogUnreachable(logger, e, Id); // it will show as lost instead of stopped
        }
    }

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "Fleet process {Id} cannot reach the ledger; it keeps retrying (its jobs' leases protect them meanwhile)"
    )]
    private static partial void LogUnreachable(ILogger logger, Exception exception, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet process {Id} reaches the ledger again")]
    private static partial void LogReconnected(ILogger logger, string id);
}
