using FactoryMcp.Server.Cli;
using FactoryMcp.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace FactoryMcp.Server.Telemetry;

/// <summary>
/// The Prometheus scrape endpoint (serve --http --metrics-urls): its own listener, GET
/// /metrics only, loopback addresses only, no token. Metrics carry line names, agent roles and counts but no
/// packet text, so a local scraper (or a proxy in front of it) needs no credential; the listener refuses any
/// address a remote host could reach.
/// </summary>
internal static class MetricsHost
{
    public static WebApplication Build(string urls, string version)
    {
        var parsed = HttpListenOptions.ParseUrls(urls);
        if (parsed.FirstOrDefault(u => !HttpListenOptions.IsLoopback(u)) is { } exposed)
            throw new UsageException(
                $"--metrics-urls must be a loopback address (127.0.0.1, [::1] or localhost), not {exposed}: the scrape endpoint has no token. Put a proxy with authentication in front of it to scrape from elsewhere."
            );
        var builder = WebApplication.CreateEmptyBuilder(
            new WebApplicationOptions { ApplicationName = "factory-metrics" }
        );
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.AddServerHeader = false);
        builder.WebHost.UseUrls([.. parsed.Select(u => u.GetLeftPart(UriPartial.Authority))]);
        builder.Services.AddRoutingCore();
        builder.Logging.ClearProviders();
        builder
            .Services.AddOpenTelemetry()
            .ConfigureResource(r => OtlpExport.Describe(r, version))
            .WithMetrics(m => m.AddMeter(OtlpExport.Meters(floor: true)).AddPrometheusExporter());
        var app = builder.Build();
        app.UseRouting();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
