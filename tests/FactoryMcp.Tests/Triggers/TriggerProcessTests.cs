using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Triggers;

/// <summary>
/// A schedule fires once across two real `factory serve --http` processes on one ledger. Real processes cannot share
/// a fake clock, so the schedule is made due by its history: the last firing is two days old, so the latest 03:00 was
/// missed while no server ran, and both processes find it due on start.
/// </summary>
public sealed class TriggerProcessTests
{
    private const string FactoryYaml = """
        triggers:
          - name: nightly
            schedule: "0 3 * * *"
            line: deps
            command: "cat todo.jsonl"
            format: jsonl
            network: false
            timeout_seconds: 60
        """;

    private const string Lines = """
        deps:
          template: |
            # Upgrade: {{title}}

            ## Intent
            {{body}}

            ## Scope
            - src/

            ## Validation
            - `test -f src/app.txt`

            ## Evidence Required
            - plan
        """;

    [Fact]
    public async Task MissedSchedule_FiresOnce_AcrossTwoServerProcesses_WithOneSetOfSignals()
    {
        using var project = await HttpProject.CreateAsync(
            FactoryYaml,
            new Dictionary<string, string>
            {
                ["src/app.txt"] = "one\n",
                ["todo.jsonl"] = """
                {"key": "todo-1", "title": "Remove the legacy exporter"}
                {"key": "todo-2", "title": "Rename the billing module"}

                """,
            }
        );
        await File.WriteAllTextAsync(Path.Combine(project.Path, ".factory", "lines.yaml"), Lines);
        var factory = new FactoryServices(
            LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")))
        );
        var now = DateTimeOffset.UtcNow;
        var today3 = new DateTimeOffset(now.Year, now.Month, now.Day, 3, 0, 0, TimeSpan.Zero);
        var latest = today3 <= now ? today3 : today3.AddDays(-1);
        var old = await factory.TriggerFirings.ClaimAsync("nightly", latest.AddDays(-2), "an earlier server");
        await factory.TriggerFirings.FinishAsync(old!.Id, 0, 0, null);

        var env = new Dictionary<string, string?> { ["TZ"] = "UTC" };
        var servers = await Task.WhenAll(
            HttpServerProcess.StartFactoryAsync(project.Path, env: env),
            HttpServerProcess.StartFactoryAsync(project.Path, env: env)
        );
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            TriggerFiring? fired = null;
            while (DateTime.UtcNow < deadline)
            {
                fired = (await factory.TriggerFirings.HistoryAsync("nightly", 10)).FirstOrDefault(f =>
                    f.ScheduledAt == latest && f.Status != TriggerFirings.Running
                );
                if (fired is not null)
                    break;
                await Task.Delay(200);
            }
            Assert.True(fired is not null, string.Join("\n", servers.SelectMany(s => s.Stderr)));
            Assert.Equal(TriggerFirings.Done, fired.Status);
            Assert.Equal((2L, 2L), (fired.SignalsNew, fired.SignalsSeen));
            // Both processes have ticked by now (each ticks as it starts); give the slower one time to try again.
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            foreach (var server in servers)
                await server.DisposeAsync();
        }

        var history = await factory.TriggerFirings.HistoryAsync("nightly", 10);
        Assert.Equal([latest, latest.AddDays(-2)], history.Select(f => f.ScheduledAt));
        var signals = await factory.Signals.ListAsync(null);
        Assert.Equal(["trigger.nightly:todo-1", "trigger.nightly:todo-2"], signals.Select(s => s.Key).Order());
        Assert.Equal(2, (await factory.Tasks.ListAsync(null, null, null, 10)).Count);
    }
}
