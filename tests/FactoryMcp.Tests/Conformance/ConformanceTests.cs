using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Conformance;

/// <summary>
/// The official MCP conformance suite (npm @modelcontextprotocol/conformance, on Node 22) against the
/// product server and against the test-only fixture host that reuses the product's HTTP endpoint.
/// </summary>
public sealed class ConformanceTests
{
    private static string FixtureHost { get; } =
        Path.Combine(
            FactoryBinary.RepoRoot,
            "artifacts",
            "bin",
            "FactoryMcp.ConformanceHost",
            new DirectoryInfo(AppContext.BaseDirectory).Name,
            "FactoryMcp.ConformanceHost"
        );

    private static Task<FactoryMcp.Tools.Processes.ProcessResult> RunSuiteAsync(
        Uri mcpUrl,
        string workingDirectory,
        params string[] extra
    ) =>
        ExternalClients.RunAsync(
            "conformance",
            ["server", "--url", mcpUrl.ToString(), .. extra],
            workingDirectory,
            workingDirectory,
            timeout: TimeSpan.FromMinutes(5)
        );

    [Fact]
    public async Task ProductServer_PassesInitializePingToolsListAndDnsRebinding()
    {
        await ExternalClients.RequireAsync(["conformance"]);
        using var project = await HttpProject.CreateAsync();
        await using var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            ["--anonymous-agent", "conformance"]
        );
        foreach (var scenario in new[] { "server-initialize", "ping", "tools-list", "dns-rebinding-protection" })
        {
            var run = await RunSuiteAsync(server.McpUrl, project.Path, "--scenario", scenario);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Matches(@"Passed: (\d+)/\1, 0 failed", run.Output);
        }
    }

    [Fact]
    public async Task FixtureHost_ActiveSuite_FailsOnlyTheExpectedScenarios()
    {
        await ExternalClients.RequireAsync(["conformance"]);
        using var project = await HttpProject.CreateAsync();
        await using var host = await HttpServerProcess.StartAsync(FixtureHost, [], project.Path);
        var expected = Path.Combine(FactoryBinary.RepoRoot, "tests", "conformance", "expected-failures.yaml");
        var run = await RunSuiteAsync(host.McpUrl, project.Path, "--expected-failures", expected);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("tools-call-with-progress: 1 passed, 0 failed", run.Output);
    }

    [Fact]
    public async Task Shutdown_LetsAnInFlightCallFinish_ThenExitsCleanly()
    {
        using var project = await HttpProject.CreateAsync();
        var host = await HttpServerProcess.StartAsync(FixtureHost, [], project.Path);
        await using (host)
        {
            await using var client = await host.ConnectAsync(null, "2025-11-25");
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var call = client
                .CallToolAsync(
                    "test_wait_for_shutdown",
                    new Dictionary<string, object?>(),
                    new Progress<ProgressNotificationValue>(_ => started.TrySetResult())
                )
                .AsTask();
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

            var stopped = host.StopAsync();
            var result = await call.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("drained", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
            Assert.Equal(0, await stopped);
        }
    }
}
