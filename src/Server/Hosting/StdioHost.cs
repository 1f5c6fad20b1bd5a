using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Hosting;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Hosting;

/// <summary>
/// `factory serve` over stdio: one caller per process, named by FACTORY_AGENT (with FACTORY_TOKEN for
/// verifiers and humans); the registry decides its role and therefore its tools.
/// </summary>
internal static class StdioHost
{
    /// <summary>How long after start the validation worker of a stdio server first looks for jobs.</summary>
    public static readonly TimeSpan WorkerStartDelay = TimeSpan.FromMilliseconds(500);

    public static async Task<int> RunAsync(LedgerPaths paths, bool validate, CancellationToken ct)
    {
        using var logging = McpSurfaceHost.StderrLogging();
        var factory = FactoryServices.Open(paths, logging: logging);
        var caller = await factory.Agents.AuthenticateAsync(
            Environment.GetEnvironmentVariable("FACTORY_AGENT"),
            Environment.GetEnvironmentVariable("FACTORY_TOKEN"),
            Environment.GetEnvironmentVariable("FACTORY_ROLE"),
            ct
        );
        factory.Notifier.Logger = logging.CreateLogger("FactoryMcp.Notifications");
        // Every server process validates: it takes queued jobs and resumes those whose owner died.
        using var stopWorker = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Off the startup path: its first look for queued or orphaned jobs (the first queries of the process)
        // would take CPU from the initialize reply on a small machine, so it starts a moment later. A declaration made in the meantime wakes it as soon as it runs; jobs are durable.
        var worker = Task.Run(
            async () =>
            {
                try
                {
                    await Task.Delay(WorkerStartDelay, stopWorker.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                // A human's server also drafts what it ships (mark_shipped) and what others shipped; an agent's
                // never ships, so it leaves the bridge to the long-running servers (and `factory content drain`).
                // --no-validate leaves validation to `factory worker` processes; on PostgreSQL their outcome wakes
                // this process's waiting declaration through NOTIFY.
                await Task.WhenAll(
                    validate ? factory.Worker.RunAsync(stopWorker.Token) : Task.CompletedTask,
                    caller.IsHuman ? factory.BridgeLoop.RunAsync(stopWorker.Token) : Task.CompletedTask,
                    factory.ListenForJobsAsync(stopWorker.Token)
                );
            },
            CancellationToken.None
        );
        // Tool calls on runs (the run timeline) are queued by the calls and written here about every second.
        var toolCalls = factory.ToolCalls.RunAsync(stopWorker.Token);
        // OTLP export only when OTEL_* variables ask for it; the check loads no OpenTelemetry assembly.
        using var telemetry = Telemetry.TelemetryEnvironment.OtlpConfigured() ? StartExport() : null;
        var (options, services) = McpSurfaceHost.ForCaller(factory, caller, logging);
        await using (services)
        {
            await using var server = McpServer.Create(
                new StdioServerTransport("factory", logging),
                options,
                logging,
                services
            );
            try
            {
                await server.RunAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        }
        await stopWorker.CancelAsync();
        await worker;
        await toolCalls; // its last flush: the calls of the session's final moments

        return 0;
    }

    private static IDisposable? StartExport()
    {
        // The agent build carries no exporter. Refusing to serve would cost the agent its session over telemetry,
        // so it says so on stderr (the CLI's MCP log) and serves without it.
        if (!Ledger.FactoryBuild.Full)
        {
            Console.Error.WriteLine(
                "factory: OTEL_* variables ask for OTLP export, which the agent build of factory does not carry; this server exports nothing. Register the full build to export."
            );
            return null;
        }
        return Export();
    }

    // Its own method, so the JIT loads the OpenTelemetry assemblies only when it is called.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static IDisposable Export() => Telemetry.OtlpExport.Start(McpSurfaceHost.Version, floor: false);
}
