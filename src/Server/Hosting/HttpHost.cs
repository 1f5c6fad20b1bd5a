using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Dashboard;
using FactoryMcp.Server.Hooks;
using FactoryMcp.Server.Http;
using FactoryMcp.Tools.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Server.Hosting;

/// <summary>
/// `factory serve --http`: Streamable HTTP at /mcp (and the dashboard at /) on Kestrel, bound to
/// loopback unless told otherwise; the webhook listener when configured. Shutdown lets in-flight calls
/// finish, then the SDK closes the sessions.
/// </summary>
internal static partial class HttpHost
{
    public sealed record Options(
        string? Urls,
        string? HooksUrls,
        string? AnonymousAgent,
        string? MetricsUrls = null,
        bool NoValidate = false
    );

    /// <summary>How often an HTTP server announces escalations raised by lease sweeps or other processes.</summary>
    public static readonly TimeSpan AnnouncePeriod = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Serves until <paramref name="ct"/> is cancelled. Not async, so that the agent build's trimming drops what
    /// follows the guard (the resume points of an async method stay reachable whatever precedes them).
    /// </summary>
    public static Task<int> RunAsync(LedgerPaths paths, Options cli, TextWriter error, CancellationToken ct)
    {
        if (!Ledger.FactoryBuild.Full)
            throw Ledger.FactoryBuild.Refused("Serving HTTP");
        return ServeAsync(paths, cli, error, ct);
    }

    private static async Task<int> ServeAsync(LedgerPaths paths, Options cli, TextWriter error, CancellationToken ct)
    {
        var factory = FactoryServices.Open(paths);
        var settings = factory.Config.Settings;
        var listen = HttpListenOptions.From(settings.Http, cli.Urls, cli.AnonymousAgent);
        listen.RequireSafe(await factory.Agents.AnyTokenAsync(ct));

        var app = Build(
            listen,
            factory.Agents,
            factory.Db.Time,
            logging => caller => McpSurfaceHost.ForCaller(factory, caller, logging).Options,
            new Ledger.Sessions.SessionLedger(factory.Db)
        );
        new DashboardEndpoints(factory, app.Services.GetRequiredService<IAntiforgery>()).Map(app);
        factory.Notifier.Logger = app
            .Services.GetRequiredService<ILoggerFactory>()
            .CreateLogger("FactoryMcp.Notifications");
        // Telemetry, when asked for: OTLP export by the OTEL_* variables, the scrape endpoint by --metrics-urls.
        using var floor =
            cli.MetricsUrls is not null || Telemetry.TelemetryEnvironment.OtlpConfigured()
                ? new Tools.Telemetry.FloorMetrics(new Ledger.Telemetry.FloorCounts(factory.Db))
                : null;
        using var otlp = Telemetry.TelemetryEnvironment.OtlpConfigured()
            ? Telemetry.OtlpExport.Start(McpSurfaceHost.Version, floor: true)
            : null;
        await using var metrics = cli.MetricsUrls is { } metricsUrls
            ? Telemetry.MetricsHost.Build(metricsUrls, McpSurfaceHost.Version)
            : null;
        if (metrics is not null)
        {
            await metrics.StartAsync(ct);
            foreach (var address in Addresses(metrics))
                await error.WriteLineAsync($"Serving Prometheus metrics at {address}/metrics");
        }
        var hooksUrls = cli.HooksUrls ?? settings.Hooks.Urls;
        await using var hooks = string.IsNullOrWhiteSpace(hooksUrls)
            ? null
            : HooksHost.Build(factory, settings, hooksUrls);
        if (hooks is not null)
        {
            await hooks.StartAsync(ct);
            foreach (var address in Addresses(hooks))
                await error.WriteLineAsync($"Serving webhooks at {address}/github");
        }
        // A replica of the fleet: registered with its heartbeat (`factory fleet`), before it serves anything.
        var member = factory.FleetMember(Ledger.Fleet.FleetLedger.Server, !cli.NoValidate, McpSurfaceHost.Version);
        await member.RegisterAsync(ct);
        await app.StartAsync(ct);
        foreach (var address in Addresses(app))
            await error.WriteLineAsync($"Serving MCP at {address}/mcp and the dashboard at {address}/");
        await error.WriteLineAsync(
            listen.AnonymousAgent is { } anonymous
                ? $"Requests without a bearer token act as builder '{anonymous}' (--anonymous-agent)."
                : "Callers authenticate with `Authorization: Bearer <token>` (`factory agent add NAME` prints one)."
        );
        if (cli.NoValidate)
            await error.WriteLineAsync("Validation is left to `factory worker` processes (--no-validate).");
        using var stopLoops = new CancellationTokenSource();
        // A server process validates too unless told not to: it takes queued jobs and resumes those whose owner died.
        // It also runs the content bridge: a shipped event becomes drafts without anyone running `factory content drain`.
        // On PostgreSQL it listens for job changes, so a declaration waiting here hears another process's outcome at once.
        // And it fires the triggers of factory.yaml that are due (once across processes: the ledger claims each firing).
        var loops = Task.WhenAll(
            AnnounceLoopAsync(factory, stopLoops.Token),
            cli.NoValidate ? Task.CompletedTask : factory.Worker.RunAsync(stopLoops.Token),
            factory.BridgeLoop.RunAsync(stopLoops.Token),
            factory.ListenForJobsAsync(stopLoops.Token),
            member.RunAsync(stopLoops.Token),
            factory.Triggers.RunAsync(stopLoops.Token),
            // Tool calls on runs, written about every second and once more after the last request.
            factory.ToolCalls.RunAsync(stopLoops.Token)
        );
        try
        {
            await app.WaitForShutdownAsync(ct);
        }
        finally
        {
            // Kestrel drains in-flight requests (up to the host's shutdown timeout); the SDK then closes the
            // sessions. The worker keeps validating until then, so a declaration in flight still gets its outcome.
            await app.StopAsync(CancellationToken.None);
            if (hooks is not null)
                await hooks.StopAsync(CancellationToken.None);
            if (metrics is not null)
                await metrics.StopAsync(CancellationToken.None);
            await stopLoops.CancelAsync();
            await loops;
            await app.DisposeAsync();
        }
        return 0;
    }

    /// <summary>Escalations raised by lease sweeps or other processes are announced within <see cref="AnnouncePeriod"/> on the ledger's clock.</summary>
    internal static async Task AnnounceLoopAsync(FactoryServices factory, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(AnnouncePeriod, factory.Db.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    await factory.Notifier.FlushEscalationsAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    factory.Notifier.Logger.LogError(e, "Announcing escalations failed");
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private static ICollection<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
}
