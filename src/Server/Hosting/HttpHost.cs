using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Dashboard;
using FactoryMcp.Server.Hooks;
using FactoryMcp.Server.Http;
using FactoryMcp.Tools.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Server.Hosting;

/// <summary>
/// `factory serve --http`: Streamable HTTP at /mcp (and the dashboard at /) on Kestrel, bound to
/// loopback unless told otherwise; the webhook listener when configured. Shutdown lets in-flight calls
/// finish, then closes the sessions.
/// </summary>
internal static partial class HttpHost
{
    public sealed record Options(string? Urls, string? HooksUrls, string? AnonymousAgent);

    public static async Task<int> RunAsync(LedgerPaths paths, Options cli, TextWriter error, CancellationToken ct)
    {
        var factory = FactoryServices.Open(paths);
        var settings = factory.Config.Settings;
        var listen = HttpListenOptions.From(settings.Http, cli.Urls, cli.AnonymousAgent);
        listen.RequireSafe(await factory.Agents.AnyTokenAsync(ct));

        using var limiter = new TokenRateLimiter(listen.RateLimitPerMinute);
        using var loginLimiter = new TokenRateLimiter(20);
        var app = Build(
            listen,
            (logging, stopping) =>
            {
                var auth = new BearerAuthentication(factory, limiter, listen.AnonymousAgent);
                return (auth.ResolveAsync, caller => McpSurfaceHost.ForCaller(factory, caller, logging));
            },
            out var sessions
        );
        new DashboardEndpoints(factory, new HumanSessions(TimeProvider.System), loginLimiter).Map(app);
        factory.Notifier.Logger = app
            .Services.GetRequiredService<ILoggerFactory>()
            .CreateLogger("FactoryMcp.Notifications");
        var hooksUrls = cli.HooksUrls ?? settings.Hooks.Urls;
        await using var hooks = string.IsNullOrWhiteSpace(hooksUrls)
            ? null
            : HooksHost.Build(factory, settings, hooksUrls);
        if (hooks is not null)
        {
            await hooks.StartAsync(ct);
            foreach (
                var address in hooks
                    .Services.GetRequiredService<IServer>()
                    .Features.Get<IServerAddressesFeature>()!
                    .Addresses
            )
                await error.WriteLineAsync($"Serving webhooks at {address}/github");
        }
        await app.StartAsync(ct);
        foreach (
            var address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
        )
            await error.WriteLineAsync($"Serving MCP at {address}/mcp and the dashboard at {address}/");
        await error.WriteLineAsync(
            listen.AnonymousAgent is { } anonymous
                ? $"Requests without a bearer token act as builder '{anonymous}' (--anonymous-agent)."
                : "Callers authenticate with `Authorization: Bearer <token>` (`factory agent add NAME` prints one)."
        );
        using var pruning = new CancellationTokenSource();
        // Every server process validates too: it takes queued jobs and resumes those whose owner died.
        var pruneLoop = Task.WhenAll(
            sessions.PruneLoopAsync(pruning.Token),
            AnnounceLoopAsync(factory, pruning.Token),
            factory.Worker.RunAsync(pruning.Token)
        );
        try
        {
            await app.WaitForShutdownAsync(ct);
        }
        finally
        {
            // Kestrel has drained in-flight requests by now; only then close the sessions they used.
            await app.StopAsync(CancellationToken.None);
            if (hooks is not null)
                await hooks.StopAsync(CancellationToken.None);
            await pruning.CancelAsync();
            await pruneLoop;
            await sessions.DisposeAllAsync();
            await app.DisposeAsync();
        }
        return 0;
    }

    /// <summary>Escalations raised by lease sweeps or other processes are announced within half a minute.</summary>
    private static async Task AnnounceLoopAsync(FactoryServices factory, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(30));
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

    /// <summary>
    /// The web application around one MCP endpoint: Kestrel limits, the request guard, /mcp. The test
    /// conformance host builds its endpoint through this same method with its own surface.
    /// </summary>
    public static WebApplication Build(
        HttpListenOptions listen,
        Func<ILoggerFactory, CancellationToken, (McpCallerResolver Resolve, McpSurfaceFactory Surface)> compose,
        out McpSessionStore sessions,
        TimeProvider? time = null
    )
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "factory" });
        builder
            .WebHost.UseKestrelCore()
            .ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Limits.MaxRequestBodySize = listen.BodyLimitBytes;
            });
        builder.WebHost.UseUrls([.. listen.Urls.Select(u => u.GetLeftPart(UriPartial.Authority))]);
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o =>
            o.LogToStandardErrorThreshold = LogLevel.Trace
        );
        builder.Logging.SetMinimumLevel(
            Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("FACTORY_LOG_LEVEL"), true, out var level)
                ? level
                : LogLevel.Warning
        );

        var app = builder.Build();
        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var stopping = app.Lifetime.ApplicationStopping;
        var (resolve, surface) = compose(loggerFactory, stopping);
        time ??= TimeProvider.System;
        sessions = new McpSessionStore(listen.SessionIdle, time, loggerFactory.CreateLogger("FactoryMcp.Http"));
        var guard = new RequestGuard(listen);
        app.Use((context, next) => guard.InvokeAsync(context, next));
        app.Use(
            (context, next) =>
            {
                if (!context.Request.Path.StartsWithSegments("/mcp"))
                {
                    var headers = context.Response.Headers;
                    headers.ContentSecurityPolicy = Html.ContentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    headers.XFrameOptions = "DENY";
                    headers["Referrer-Policy"] = "same-origin"; // no-referrer would make browsers send Origin: null on our own forms
                    headers.CacheControl = "no-store";
                }
                return next(context);
            }
        );
        app.UseRouting();
        new McpHttpEndpoint(sessions, resolve, surface, time, loggerFactory, stopping).Map(app, "/mcp");
        return app;
    }
}
