using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using FactoryMcp.ChildProcesses;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A real Prometheus server (Debian's `prometheus`) scraping one target every second: its own config and
/// data folder in a temporary directory, its web API on a free loopback port, stopped with SIGTERM.
/// </summary>
public sealed partial class PrometheusServer : IAsyncDisposable
{
    private readonly ChildProcess process;
    private readonly TempDirectory folder;

    private PrometheusServer(ChildProcess process, TempDirectory folder, Uri url)
    {
        this.process = process;
        this.folder = folder;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<PrometheusServer> StartAsync(Uri target, string metricsPath = "/metrics")
    {
        var folder = new TempDirectory("prometheus");
        var config = folder.Combine("prometheus.yml");
        await File.WriteAllTextAsync(
            config,
            $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: factory
                scrape_interval: 1s
                metrics_path: {metricsPath}
                static_configs:
                  - targets: ['{target.Authority}']
            """
        );
        // Prometheus cannot report a port it chose itself, so the test picks a free one; another process taking
        // it in between makes the start fail, and the next attempt picks again.
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var process = await ChildProcess.StartAsync(
                "prometheus",
                [
                    $"--config.file={config}",
                    $"--storage.tsdb.path={folder.Combine("data")}",
                    $"--web.listen-address=127.0.0.1:{port}",
                ],
                folder.Path
            );
            try
            {
                await process.WaitForLineAsync(Ready(), TimeSpan.FromSeconds(60));
                return new PrometheusServer(process, folder, new Uri($"http://127.0.0.1:{port}/"));
            }
            catch (InvalidOperationException) when (attempt < 2 && process.HasExited)
            {
                await process.DisposeAsync();
            }
            catch
            {
                await process.DisposeAsync();
                folder.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// Asks the PromQL <paramref name="query"/> over the HTTP API until its single sample's value is
    /// <paramref name="expected"/> or the time runs out; returns the last value seen (null: no sample).
    /// </summary>
    public async Task<string?> QueryUntilAsync(string query, string expected, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        string? last = null;
        while (DateTime.UtcNow < until)
        {
            var response = await HttpProject.Http.GetStringAsync(
                new Uri(Url, $"api/v1/query?query={Uri.EscapeDataString(query)}")
            );
            using var json = JsonDocument.Parse(response);
            Assert.Equal("success", json.RootElement.GetProperty("status").GetString());
            var result = json.RootElement.GetProperty("data").GetProperty("result");
            last = result.GetArrayLength() == 1 ? result[0].GetProperty("value")[1].GetString() : null;
            if (last == expected)
                return last;
            await Task.Delay(500);
        }
        return last;
    }

    /// <summary>The health of the factory target as Prometheus last saw it ("up", "down", "unknown").</summary>
    public async Task<string> TargetHealthAsync()
    {
        var response = await HttpProject.Http.GetStringAsync(new Uri(Url, "api/v1/targets"));
        using var json = JsonDocument.Parse(response);
        var active = json.RootElement.GetProperty("data").GetProperty("activeTargets");
        return active.GetArrayLength() == 1 ? active[0].GetProperty("health").GetString()! : "none";
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await process.DisposeAsync();
            folder.Dispose();
        }
    }

    [GeneratedRegex("Server is ready to receive web requests")]
    private static partial Regex Ready();
}
