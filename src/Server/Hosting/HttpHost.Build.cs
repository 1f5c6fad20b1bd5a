using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Sessions;
using FactoryMcp.Server.Dashboard;
using FactoryMcp.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Hosting;

internal static partial class HttpHost
{
    private const string SchemeSelector = "factory";
    private const string McpPolicy = "mcp";

    /// <summary>
    /// The web application around /mcp: Kestrel limits, the request guard, ASP.NET Core authentication
    /// (bearer tokens for /mcp, the cookie for the dashboard), rate limiting and authorization, and the SDK's
    /// own Streamable HTTP endpoint: sessions for initialize-handshake (2025) clients, 2026-07-28 requests
    /// served statelessly, each caller's surface from its claims. With <paramref name="sessions"/>, sessions are
    /// recorded in the ledger and continue on any replica (<see cref="SessionMigration"/>). The test conformance
    /// host builds its endpoint through this same method with its own surface.
    /// </summary>
    public static WebApplication Build(
        HttpListenOptions listen,
        AgentRegistry agents,
        TimeProvider time,
        Func<ILoggerFactory, Func<Caller, McpServerOptions>> surface,
        SessionLedger? sessions = null
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
        ConfigureLogging(builder);

        var services = builder.Services;
        services.AddSingleton(agents);
        services.AddSingleton(sp => new McpSurfaces(surface(sp.GetRequiredService<ILoggerFactory>())));
        services
            .AddMcpServer()
            .WithHttpTransport(o =>
            {
                o.SessionMode = HttpServerSessionMode.StatefulForInitializeClients;
                // Obsolete for new code (SEP-2567), but the agent CLIs still speak 2025 revisions with sessions.
#pragma warning disable MCP9006
                o.IdleTimeout = listen.SessionIdle;
                o.MaxIdleSessionCount = listen.MaxIdleSessions;
#pragma warning restore MCP9006
                o.TimeProvider = time;
                o.ConfigureSessionOptions = ConfigureSessionAsync;
            });
        if (sessions is not null)
            services.AddSingleton<ISessionMigrationHandler>(sp => new SessionMigration(
                sessions,
                listen.SessionIdle,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("FactoryMcp.Http")
            ));
        services.AddDataProtection();
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = new InMemoryKeyRepository());
        services
            .AddAuthentication(SchemeSelector)
            .AddPolicyScheme(
                SchemeSelector,
                null,
                o =>
                    o.ForwardDefaultSelector = context =>
                        context.Request.Path.StartsWithSegments("/mcp")
                            ? BearerAuthenticationHandler.SchemeName
                            : DashboardAuthentication.Scheme
            )
            .AddScheme<BearerAuthenticationOptions, BearerAuthenticationHandler>(
                BearerAuthenticationHandler.SchemeName,
                o =>
                {
                    o.AnonymousAgent = listen.AnonymousAgent;
                    o.TimeProvider = time;
                }
            )
            .AddCookie(DashboardAuthentication.Scheme, o => DashboardAuthentication.ConfigureCookie(o, time));
        services
            .AddAuthorizationBuilder()
            .AddPolicy(
                McpPolicy,
                p => p.AddAuthenticationSchemes(BearerAuthenticationHandler.SchemeName).RequireAuthenticatedUser()
            )
            .AddPolicy(
                DashboardAuthentication.HumanPolicy,
                p => p.AddAuthenticationSchemes(DashboardAuthentication.Scheme).RequireRole(Roles.Human)
            );
        services.AddAntiforgery(DashboardAuthentication.ConfigureAntiforgery);
        services.AddRateLimiter(o => HttpRateLimits.Configure(o, listen.RateLimitPerMinute));

        var app = builder.Build();
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
        // Authentication, then limits (so a failed token still counts against its address), then 401/403.
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        if (app.Services.GetService<ISessionMigrationHandler>() is SessionMigration migration)
            app.UseWhen(
                context => context.Request.Path.StartsWithSegments("/mcp"),
                mcp => mcp.Use((context, next) => migration.InvokeAsync(context, next))
            );
        app.MapMcp("/mcp").RequireAuthorization(McpPolicy).RequireRateLimiting(HttpRateLimits.Mcp);
        return app;
    }

    /// <summary>Per session (and per 2026-07-28 request): the surface of the caller the request authenticated as.</summary>
    private static Task ConfigureSessionAsync(HttpContext context, McpServerOptions options, CancellationToken ct)
    {
        var caller =
            CallerClaims.Caller(context.User)
            ?? throw new InvalidOperationException(
                "An unauthenticated request reached /mcp; authorization must run first."
            );
        context.RequestServices.GetRequiredService<McpSurfaces>().Apply(caller, options);
        if (context.Response.Headers["Mcp-Session-Id"].ToString() is { Length: > 0 } sessionId)
            LogOpened(
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("FactoryMcp.Http"),
                sessionId,
                caller.Name,
                caller.Role
            );
        return Task.CompletedTask;
    }

    private static void ConfigureLogging(WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o =>
            o.LogToStandardErrorThreshold = LogLevel.Trace
        );
        // Its keys never leave memory (InMemoryKeyRepository), so "no XML encryptor configured" warns of nothing.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        builder.Logging.SetMinimumLevel(
            Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("FACTORY_LOG_LEVEL"), true, out var level)
                ? level
                : LogLevel.Warning
        );
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened MCP session {SessionId} for {Caller} ({Role})")]
    private static partial void LogOpened(ILogger logger, string sessionId, string caller, string role);
}
