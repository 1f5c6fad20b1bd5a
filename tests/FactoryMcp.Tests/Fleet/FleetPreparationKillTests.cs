using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.PostgreSql;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Processes;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// A replica SIGKILLed while claims are preparing their workspaces (issue 21): replica 1 runs with a `git` on its
/// PATH that stalls the workspace fetch (a real slow transfer, as from a slow disk or network), so two agents'
/// claims are caught mid-preparation when it is killed. The agent that comes back gets its claim on replica 2 at
/// once (workspace prepared there, lease started); the claim whose agent never returns stays on the ledger until its
/// deadline and then goes back to the queue with no attempt counted, and another agent claims it; an agent that held a
/// run throughout carries on through replica 2; nothing is lost and `ledger verify` passes. The deadline is at least
/// ten minutes away, so the sweeps (and the claim after the one past the deadline) run in this test process on the
/// same ledger with a clock set just before and just past it.
/// </summary>
public sealed class FleetPreparationKillTests
{
    [Fact]
    public async Task ReplicaKilledWhileClaimsPrepare_TheReturningAgentResumes_TheAbandonedClaimReturnsAfterItsDeadline()
    {
        var url = await PostgresCluster.CreateDatabaseAsync("prep");
        using var project = await HttpProject.CreateAsync(ledgerUrl: url);
        var human = await project.AddAgentAsync("ada", "human");
        var tokens = new Dictionary<string, string>();
        foreach (var name in new[] { "b-hold", "b-prep", "b-gone", "b-new" })
            tokens[name] = await project.AddAgentAsync(name);
        for (var i = 1; i <= 3; i++)
        {
            var packet = project.Combine($"packet-{i}.md");
            await File.WriteAllTextAsync(packet, PacketText.Simple($"Task {i}"));
            Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", packet])).ExitCode);
            Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", $"{i}"])).ExitCode);
        }

        // Replica 1's git stalls the workspace fetch (the only git command naming refs/heads/factory/base) and then
        // fails without touching anything, so it cannot race replica 2 for the same workspace after the kill.
        var bin = project.Combine("slow-git");
        var marks = project.Combine("preparing");
        Directory.CreateDirectory(bin);
        Directory.CreateDirectory(marks);
        var realGit = (
            await ProcessRunner.RunAsync(new ProcessSpec("sh", ["-c", "command -v git"]))
        ).StandardOutput.Trim();
        var wrapper = Path.Combine(bin, "git");
        await File.WriteAllTextAsync(
            wrapper,
            $"""
            #!/bin/sh
            case "$*" in
              *refs/heads/factory/base*) touch '{marks}'/$$; sleep 45; exit 1 ;;
            esac
            exec '{realGit}' "$@"

            """
        );
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await using var r1 = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            env: new Dictionary<string, string?> { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") }
        );
        await using var r2 = await HttpServerProcess.StartFactoryAsync(project.Path);

        // b-hold holds a run (claimed through replica 2, which prepares normally) across the kill.
        long heldRun;
        await using (var hold = await r2.ConnectAsync(tokens["b-hold"]))
        {
            heldRun = (await OkAsync(hold, "get_task_packet", [])).GetProperty("run_id").GetInt64();
            await OkAsync(hold, "record_evidence", Evidence(heldRun, "plan", "before the kill"));
        }
        var sinceRenewal = System.Diagnostics.Stopwatch.StartNew();

        // Two claims through replica 1, both stuck in their workspace fetch when it dies.
        var prep = await r1.ConnectAsync(tokens["b-prep"]);
        var gone = await r1.ConnectAsync(tokens["b-gone"]);
        var stuck = new[] { prep, gone }
            .Select(c =>
                Task.Run(async () => await c.CallToolAsync("get_task_packet", new Dictionary<string, object?>()))
            )
            .ToList();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            while (Directory.GetFiles(marks).Length < 2)
                await Task.Delay(50, wait.Token);
        await r1.KillAsync();
        foreach (var call in stuck)
        {
            // The connection died with the replica: the call fails (or, if the client surfaces it so, is an error result).
            var outcome = await Record.ExceptionAsync(async () =>
            {
                var result = await call;
                Assert.Fail(
                    $"a call on the killed replica answered: isError={result.IsError} {string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text))}"
                );
            });
            Assert.NotNull(outcome);
        }
        await prep.DisposeAsync();
        await gone.DisposeAsync();

        // Nothing was lost: both claims are on the ledger, neither handed over (no lease started).
        var paths = new LedgerPaths(PostgresLocation.Parse(url), Path.Combine(project.Path, ".factory"));
        var real = FactoryServices.Open(paths);
        var claims = (
            await real.Db.QueryAsync<RunRow>(RunRow.Select + " WHERE r.state = 'open' ORDER BY r.id")
        ).ToDictionary(r => r.AgentName);
        Assert.False(claims["b-prep"].Started);
        Assert.False(claims["b-gone"].Started);
        Assert.True(claims["b-hold"].Started);
        var goneTask = claims["b-gone"].TaskId;

        // The run held throughout carries on through replica 2 (its lease renewed past the abandoned claim's deadline).
        // A burst of writes renews a lease once a second: on a quick machine the kill can come within a second of
        // the last renewal, so the write after it waits out that second and is sure to renew.
        if (sinceRenewal.Elapsed < TimeSpan.FromSeconds(1.1))
            await Task.Delay(TimeSpan.FromSeconds(1.1) - sinceRenewal.Elapsed);
        await using (var hold = await r2.ConnectAsync(tokens["b-hold"]))
            await OkAsync(hold, "record_evidence", Evidence(heldRun, "log", "after the kill"));
        var renewed = await real.Db.QuerySingleOrDefaultAsync<RunRow>(
            RunRow.Select + " WHERE r.id = @heldRun",
            SqlArgs.Of(new { heldRun })
        );
        Assert.True(
            renewed!.LeaseExpiresAt > claims["b-gone"].LeaseExpiresAt,
            $"the held run's lease ({renewed.LeaseExpiresAt}) was not renewed past the abandoned claim's deadline ({claims["b-gone"].LeaseExpiresAt})"
        );

        // The agent that comes back, on the other replica: its claim resumes there at once.
        await using (var again = await r2.ConnectAsync(tokens["b-prep"]))
        {
            var packet = await OkAsync(again, "get_task_packet", []);
            Assert.Equal(claims["b-prep"].Id, packet.GetProperty("run_id").GetInt64());
            Assert.True(Directory.Exists(Path.Combine(packet.GetProperty("workspace").GetString()!, ".git")));
            await OkAsync(again, "record_evidence", Evidence(claims["b-prep"].Id, "plan", "after the kill"));
        }

        // The abandoned claim holds its task until its deadline: a sweep a second before it takes nothing…
        var deadline = claims["b-gone"].LeaseExpiresAt!.Value;
        Assert.Equal(
            0,
            await FactoryServices.Open(paths, new FakeTimeProvider(deadline.AddSeconds(-1))).Leases.SweepExpiredAsync()
        );
        await using (var early = await r2.ConnectAsync(tokens["b-new"]))
            Assert.Equal("empty", (await OkAsync(early, "get_task_packet", [])).GetProperty("status").GetString());

        // …and one just past it (any process's: here one whose clock is there) gives the task back, and only that.
        var later = FactoryServices.Open(paths, new FakeTimeProvider(deadline.AddMilliseconds(1)));
        var before = await OpenRunsAsync(real);
        var swept = await later.Leases.SweepExpiredAsync();
        Assert.True(
            swept == 1,
            $"the sweep at {Iso.Text(deadline.AddMilliseconds(1))} took {swept} runs; open before it:\n{before}"
        );
        var abandoned = await real.Db.QuerySingleOrDefaultAsync<RunRow>(
            RunRow.Select + " WHERE r.id = @id",
            SqlArgs.Of(new { id = claims["b-gone"].Id })
        );
        Assert.Equal(RunStates.Cancelled, abandoned!.State);
        // The task is back in the queue from that moment on the sweeping process's clock (its not_before), so that
        // process, whose clock is there, claims it for the next agent, with a fresh workspace.
        var bNew = (await later.Agents.AuthenticateTokenAsync(tokens["b-new"]))!;
        var reclaimed = await later.Packets.GetTaskPacketAsync(bNew, null, false);
        Assert.Equal("claimed", reclaimed.Status);
        Assert.Equal(goneTask, reclaimed.TaskId);
        Assert.NotEqual(claims["b-gone"].Id, reclaimed.RunId);
        Assert.True(Directory.Exists(Path.Combine(reclaimed.Workspace!, ".git")));
        // No attempt was counted for the abandoned claim.
        Assert.Equal(
            0,
            await real.Db.QuerySingleOrDefaultAsync<long>(
                "SELECT count(*) FROM runs WHERE task_id = @goneTask AND state IN ('expired', 'failed')",
                SqlArgs.Of(new { goneTask })
            )
        );

        // Nothing the held run wrote before the kill was lost.
        await using (var ada = await r2.ConnectAsync(human))
        {
            var run = await ada.CallToolAsync("get_run", new Dictionary<string, object?> { ["run_id"] = heldRun });
            var text = string.Join("\n", run.Content.OfType<TextContentBlock>().Select(b => b.Text));
            Assert.Contains("before the kill", text);
            Assert.Contains("after the kill", text);
        }
        var verify = await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"]);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    private static async Task<string> OpenRunsAsync(FactoryServices services) =>
        string.Join(
            "\n",
            (await services.Db.QueryAsync<RunRow>(RunRow.Select + " WHERE r.state = 'open' ORDER BY r.id")).Select(r =>
                $"run {r.Id} of {r.AgentName} (task {r.TaskId}): opened {Iso.Text(r.OpenedAt)}, lease started {(r.LeaseStartedAt is { } s ? Iso.Text(s) : "-")}, expires {(r.LeaseExpiresAt is { } e ? Iso.Text(e) : "-")}"
            )
        );

    private static Dictionary<string, object?> Evidence(long run, string kind, string summary) =>
        new()
        {
            ["run_id"] = run,
            ["kind"] = kind,
            ["summary"] = summary,
        };

    private static async Task<System.Text.Json.JsonElement> OkAsync(
        McpClient client,
        string tool,
        Dictionary<string, object?> args
    )
    {
        var result = await client.CallToolAsync(tool, args);
        Assert.True(
            result.IsError != true,
            $"{tool}: {string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text))}"
        );
        return result.StructuredContent!.Value;
    }
}
