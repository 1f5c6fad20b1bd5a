using FactoryMcp.Ledger.Fleet;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Server.Hosting;

/// <summary>
/// `factory worker`: a process that only validates (README, "Fleet"). It takes validation jobs from the ledger as a
/// server does (SKIP LOCKED on PostgreSQL), runs them sandboxed exactly as a server does, registers in the fleet, and
/// wakes on NOTIFY. On SIGTERM it stops taking jobs, lets those under way finish for up to
/// <see cref="DrainTime"/>, then kills what is left and gives those jobs back to the queue.
/// </summary>
internal static class WorkerHost
{
    /// <summary>How long a stopping worker lets its running jobs finish before it gives them back.</summary>
    public static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(LedgerPaths paths, int? concurrency, TextWriter error, CancellationToken ct)
    {
        // A worker is a daemon: its job log is its output (FACTORY_LOG_LEVEL still rules).
        using var logging = Environment.GetEnvironmentVariable("FACTORY_LOG_LEVEL") is { Length: > 0 }
            ? McpSurfaceHost.StderrLogging()
            : StderrLoggerProvider.Factory(LogLevel.Information);
        var factory = FactoryServices.Open(paths, logging: logging);
        factory.Notifier.Logger = logging.CreateLogger("FactoryMcp.Notifications");
        var loops = concurrency ?? factory.Config.Settings.ValidationConcurrency;
        factory.Worker.SlotCapacity = loops;
        var member = factory.FleetMember(FleetLedger.Worker, validates: true, McpSurfaceHost.Version);
        await member.RegisterAsync(ct);
        await error.WriteLineAsync(
            $"Worker {member.Id} validating jobs of {paths.LedgerFile} ({loops} at once); SIGTERM stops it cleanly."
        );

        using var stopTaking = new CancellationTokenSource();
        using var stopJobs = new CancellationTokenSource();
        using var stopBackground = new CancellationTokenSource();
        var workers = Task.WhenAll(
            Enumerable
                .Range(0, loops)
                .Select(_ => Task.Run(() => factory.Worker.RunAsync(stopTaking.Token, stopJobs.Token)))
        );
        var background = Task.WhenAll(
            factory.ListenForJobsAsync(stopBackground.Token),
            member.RunAsync(stopBackground.Token)
        );
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException) { }
        await error.WriteLineAsync(
            $"Worker {member.Id} stopping: {factory.Worker.JobsRunning} job(s) under way get up to {DrainTime.TotalSeconds:0} s to finish."
        );
        await stopTaking.CancelAsync();
        factory.Worker.Nudge();
        if (await Task.WhenAny(workers, Task.Delay(DrainTime)) != workers)
            await stopJobs.CancelAsync();
        await workers;
        await stopBackground.CancelAsync();
        await background;
        await error.WriteLineAsync($"Worker {member.Id} stopped after {factory.Worker.JobsDone} job(s).");
        return 0;
    }
}
