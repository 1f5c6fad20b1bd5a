using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Dashboard;

/// <summary>
/// The dashboard's Fleet page (/fleet) in Debian's chromium driven by playwright-core (tests/js/fleet-check.mjs):
/// a `factory serve --http` and a `factory worker` on one PostgreSQL ledger, a task waiting in its line; the page
/// shows both processes and the line's queue, with no CSP violation and no console error.
/// </summary>
public sealed class DashboardFleetBrowserTests
{
    [Fact]
    public async Task FleetPage_InChromium_ShowsTheRegisteredProcessesAndTheQueue_WithoutCspViolationsOrErrors()
    {
        await ExternalClients.RequireAsync(["playwright-core"], chromium: true);
        using var project = await HttpProject.CreateAsync(engine: LedgerEngine.PostgreSql);
        var human = await project.AddAgentAsync("ada", "human");
        var packet = project.Combine("packet.md");
        await File.WriteAllTextAsync(packet, PacketText.Simple("Waiting in its line"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", packet])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path, ["--no-validate"]);
        await using var worker = await FactoryMcp.ChildProcesses.ChildProcess.StartAsync(
            FactoryBinary.Path,
            ["worker", "--concurrency", "1"],
            project.Path,
            FactoryBinary.CleanEnvironment(
                new Dictionary<string, string?> { ["FACTORY_VALIDATION_SLOTS"] = project.Combine("slots") }
            )
        );
        var started = await worker.WaitForLineAsync(
            new System.Text.RegularExpressions.Regex(@"Worker (\S+) validating jobs"),
            TimeSpan.FromSeconds(60)
        );
        var workerId = started.Groups[1].Value;

        var input = new JsonObject
        {
            ["base"] = server.BaseUrl.ToString().TrimEnd('/'),
            ["token"] = human,
        }.ToJsonString();
        var run = await ExternalClients.RunAsync(
            "node",
            [Path.Combine(ExternalClients.Folder, "fleet-check.mjs"), input],
            ExternalClients.Folder,
            project.Combine("browser-home"),
            timeout: TimeSpan.FromMinutes(2)
        );
        Assert.True(run.ExitCode == 0, run.Output);
        var seen = JsonDocument.Parse(run.StandardOutput.Trim().Split('\n')[^1]).RootElement;

        Assert.Equal("/login", seen.GetProperty("anonymousLandsOn").GetString());
        Assert.Equal(200, seen.GetProperty("status").GetInt32());
        Assert.Contains("default-src 'none'", seen.GetProperty("csp").GetString());
        Assert.Contains("Fleet", seen.GetProperty("title").GetString());
        Assert.True(seen.GetProperty("processesVisible").GetBoolean(), "the process table is not visible");
        Assert.True(seen.GetProperty("queuesVisible").GetBoolean(), "the queue table is not visible");

        var processes = Rows(seen.GetProperty("processes"));
        Assert.Equal(
            "State|Role|Host|Pid|Version|Last heartbeat|Jobs running|Jobs done|Id",
            string.Join('|', processes[0])
        );
        var front = Assert.Single(processes, r => r[1] == "server (--no-validate)");
        Assert.Equal("alive", front[0]);
        Assert.Equal(Environment.MachineName, front[2]);
        Assert.Matches("^[1-9][0-9]*$", front[3]);
        Assert.Equal("0|0", string.Join('|', front[6..8]));
        var validator = Assert.Single(processes, r => r[8] == workerId);
        Assert.Equal($"alive|worker|{Environment.MachineName}", string.Join('|', validator[..3]));
        Assert.Equal(3, processes.Count);

        var queues = Rows(seen.GetProperty("queues"));
        Assert.Equal("Line|Tasks queued|Validations queued|Validating", string.Join('|', queues[0]));
        Assert.Contains("bugfix|1|0|0", queues.Skip(1).Select(r => string.Join('|', r)));

        Assert.Empty(seen.GetProperty("cspViolations").EnumerateArray());
        // Chromium asks every site for /favicon.ico on its own; the dashboard has none (404). That request is the
        // browser's, not the page's: it is the only failure allowed, and only as that exact request.
        var failed = seen.GetProperty("failedResponses").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.All(failed, f => Assert.Equal("404 /favicon.ico", f));
        Assert.All(
            seen.GetProperty("consoleErrors").EnumerateArray().Select(e => e.GetString()!),
            e => Assert.EndsWith("/favicon.ico)", e)
        );
    }

    private static List<string[]> Rows(JsonElement rows) =>
        rows.EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetString()!).ToArray()).ToList();
}
