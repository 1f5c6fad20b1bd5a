using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Hooks;
using FactoryMcp.Ledger.Settings;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Server.Http;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Signals;
using FactoryMcp.Tools.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Server.Hooks;

/// <summary>
/// The separate webhook listener (--hooks-urls, or hooks.urls in factory.yaml): POST /github,
/// every request signed; and the OTLP receiver, /otlp/v1/{logs,metrics,traces}, authenticated by tokens
/// derived from the same secret. Without a configured secret it refuses to start.
/// </summary>
internal static class HooksHost
{
    public static WebApplication Build(FactoryServices factory, FactorySettings settings, string urls)
    {
        var secret = Secret(settings.Hooks, factory.Paths.Folder);
        var builder = WebApplication.CreateEmptyBuilder(
            new WebApplicationOptions { ApplicationName = "factory-hooks" }
        );
        builder
            .WebHost.UseKestrelCore()
            .ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Limits.MaxRequestBodySize = settings.Http.BodyLimitBytes;
            });
        builder.WebHost.UseUrls([
            .. HttpListenOptions.ParseUrls(urls).Select(u => u.GetLeftPart(UriPartial.Authority)),
        ]);
        builder.Services.AddRoutingCore();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o =>
            o.LogToStandardErrorThreshold = LogLevel.Trace
        );
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var hooks = new GitHubWebhooks(
            factory.SignalIntake,
            factory.Ship,
            new CiFailureEvents(factory.Signals, factory.SignalIntake, factory.Config),
            new IssueAssignments(factory.Agents, factory.Tasks, factory.SignalIntake),
            new PullRequestEvents(factory.PullVerifications, factory.Config),
            new HookLedger(factory.Db),
            secret,
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FactoryMcp.Hooks")
        );
        var otlp = new OtlpReceiver(
            new OtlpIntake(
                new UsageLedger(factory.Db),
                new ProductionErrors(
                    new ErrorGroupLedger(factory.Db),
                    factory.Signals,
                    factory.Tasks,
                    factory.SignalIntake,
                    factory.Config
                )
            ),
            secret,
            settings.Http.BodyLimitBytes,
            settings.Hooks.OtlpMaxItems,
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FactoryMcp.Otlp")
        );
        app.UseRouting();
        app.MapPost("/github", hooks.HandleAsync);
        app.MapPost("/otlp/v1/logs", otlp.LogsAsync);
        app.MapPost("/otlp/v1/metrics", otlp.MetricsAsync);
        app.MapPost("/otlp/v1/traces", otlp.TracesAsync);
        return app;
    }

    private static byte[] Secret(FactorySettings.HooksSettings hooks, string ledgerFolder)
    {
        if (Environment.GetEnvironmentVariable(hooks.SecretEnv) is { Length: > 0 } fromEnv)
            return Encoding.UTF8.GetBytes(fromEnv);
        if (hooks.SecretFile is { } file)
        {
            var path = Path.IsPathRooted(file) ? file : Path.Combine(ledgerFolder, file);
            if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } fromFile)
                return Encoding.UTF8.GetBytes(fromFile);
            throw new LedgerException(
                $"hooks.secret_file {path} is missing or empty; put the webhook secret GitHub signs with in it."
            );
        }
        throw new LedgerException(
            $"The webhook listener needs the secret GitHub signs deliveries with: set {hooks.SecretEnv} (hooks.secret_env), or hooks.secret_file in factory.yaml. Unsigned webhooks are never accepted."
        );
    }
}
