using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Triggers;

/// <summary>
/// Scheduled triggers on a real ledger and a real repository, driven by the fake clock: a firing runs once across
/// two server processes' schedulers (each with its own connection to the ledger), its command runs in the sandbox
/// on a fresh checkout, and its output becomes deduplicated signals drafted for the trigger's line.
/// </summary>
public abstract class TriggerTests(LedgerEngine engine) : EngineTests(engine)
{
    private const string Template = """
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

    private static string Lines(bool autoApprove = false) =>
        $"""
            deps:
              auto_approve: {(autoApprove ? "true" : "false")}
              template: |
            {Template}
            """;

    private static string FactoryYaml(
        string command,
        string format,
        string line = "deps",
        string schedule = "0 3 * * *"
    ) =>
        $"""
            triggers:
              - name: nightly
                schedule: "{schedule}"
                line: {line}
                command: "{command}"
                format: {format}
                network: false
                timeout_seconds: 60
            """;

    private async Task<TestFactory> FactoryAsync(
        string command,
        string format,
        bool autoApprove = false,
        string line = "deps"
    )
    {
        var factory = await CreateFactoryAsync(
            Lines(autoApprove),
            new Dictionary<string, string>
            {
                ["README.md"] = "# app\n",
                ["src/app.txt"] = "one\n",
                ["scan.json"] = ScannerReportTests.Fixture("npm-audit.json"),
                ["todo.jsonl"] = """
                {"key": "todo-1", "title": "Remove the legacy exporter", "labels": ["chore"]}
                {"key": "todo-2", "title": "Rename the billing module"}

                """,
            }
        );
        await File.WriteAllTextAsync(factory.Paths.FactoryConfig, FactoryYaml(command, format, line));
        return factory;
    }

    /// <summary>Another server process on the same ledger: its own connection, its own scheduler, the same clock.</summary>
    private static FactoryServices SecondProcess(TestFactory factory) =>
        new(LedgerDatabase.Open(factory.Paths, factory.Time));

    [Fact]
    public async Task Schedule_FiresOnceAcrossTwoProcesses_AndASecondRunAddsNothing()
    {
        using var factory = await FactoryAsync("cat scan.json", TriggerFormats.NpmAudit);
        var other = SecondProcess(factory);

        // 09:00: 03:00 passed before these processes started; a new trigger waits for its next time.
        Assert.Empty(await factory.Services.Triggers.TickAsync());
        Assert.Empty(await other.Triggers.TickAsync());
        Assert.Equal(
            new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero),
            await factory.Services.Triggers.NextAsync(factory.Services.Config.Settings.Triggers[0])
        );

        factory.Time.Advance(TimeSpan.FromHours(18)); // 03:00 the next day
        var fired = (await Task.WhenAll(factory.Services.Triggers.TickAsync(), other.Triggers.TickAsync()))
            .SelectMany(f => f)
            .ToList();

        var once = Assert.Single(fired);
        Assert.Null(once.Error);
        Assert.Equal((2, 2), (once.New, once.Seen));
        var firing = Assert.Single(await factory.Services.TriggerFirings.HistoryAsync("nightly", 10));
        Assert.Equal(TriggerFirings.Done, firing.Status);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero), firing.ScheduledAt);
        var signals = await factory.Services.Signals.ListAsync(null);
        Assert.Equal(2, signals.Count);
        Assert.All(signals, s => Assert.Equal("trigger.nightly", s.Source));
        Assert.All(signals, s => Assert.Equal(SignalStatuses.Proposed, s.Status));
        var tasks = await factory.Services.Tasks.ListAsync(null, null, null, 10);
        Assert.All(tasks, t => Assert.Equal(("deps", TaskStates.Proposed), (t.Line, t.State)));

        // Ticking again at the same time does nothing; the next day's firing finds the same findings.
        Assert.Empty(await other.Triggers.TickAsync());
        factory.Time.Advance(TimeSpan.FromDays(1));
        var again = Assert.Single(
            (await Task.WhenAll(other.Triggers.TickAsync(), factory.Services.Triggers.TickAsync())).SelectMany(f => f)
        );
        Assert.Equal((0, 2), (again.New, again.Seen));
        Assert.Equal(2, (await factory.Services.Signals.ListAsync(null)).Count);
        Assert.Equal(2, (await factory.Services.Tasks.ListAsync(null, null, null, 10)).Count);
    }

    [Fact]
    public async Task MissedFirings_DuringDowntime_FireOnceOnStart()
    {
        using var factory = await FactoryAsync("cat scan.json", TriggerFormats.NpmAudit);
        factory.Time.Advance(TimeSpan.FromHours(18));
        Assert.Single(await factory.Services.Triggers.TickAsync());

        // The servers are down for three days and a bit; a process starting then fires the latest missed time once.
        factory.Time.Advance(TimeSpan.FromDays(3) + TimeSpan.FromHours(5));
        var restarted = SecondProcess(factory);
        var fired = Assert.Single(await restarted.Triggers.TickAsync());
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 3, 0, 0, TimeSpan.Zero), fired.Firing.ScheduledAt);
        Assert.Empty(await restarted.Triggers.TickAsync());
        Assert.Empty(await factory.Services.Triggers.TickAsync());
        Assert.Equal(2, (await factory.Services.TriggerFirings.HistoryAsync("nightly", 10)).Count);
    }

    [Fact]
    public async Task GarbageOutput_IsTheFiringsError_AndNothingIsRecorded()
    {
        using var factory = await FactoryAsync(
            "echo '<html>rate limited</html>'; echo oops >&2",
            TriggerFormats.PipAudit
        );
        factory.Time.Advance(TimeSpan.FromHours(18));
        var fired = Assert.Single(await factory.Services.Triggers.TickAsync());

        Assert.Contains("not the JSON pip-audit prints", fired.Error);
        var firing = Assert.Single(await factory.Services.TriggerFirings.HistoryAsync("nightly", 10));
        Assert.Equal(TriggerFirings.Failed, firing.Status);
        Assert.Equal(fired.Error, firing.Error);
        Assert.Empty(await factory.Services.Signals.ListAsync(null));
        Assert.Empty(await factory.Services.Tasks.ListAsync(null, null, null, 10));
    }

    [Fact]
    public async Task JsonlCommand_ThatFails_IsAnError_WithItsStderr()
    {
        using var factory = await FactoryAsync("cat todo.jsonl; echo 'disk quota' >&2; exit 3", TriggerFormats.Jsonl);
        factory.Time.Advance(TimeSpan.FromHours(18));
        var fired = Assert.Single(await factory.Services.Triggers.TickAsync());
        Assert.Contains("the command exited 3; nothing was recorded", fired.Error);
        Assert.Contains("disk quota", fired.Error);
        Assert.Empty(await factory.Services.Signals.ListAsync(null));
    }

    [Fact]
    public async Task Jsonl_OnAnAutoApproveLine_IsQueuedWithoutAHuman()
    {
        using var factory = await FactoryAsync("cat todo.jsonl", TriggerFormats.Jsonl, autoApprove: true);
        factory.Time.Advance(TimeSpan.FromHours(18));
        var fired = Assert.Single(await factory.Services.Triggers.TickAsync());
        Assert.Null(fired.Error);
        var tasks = await factory.Services.Tasks.ListAsync(null, null, null, 10);
        Assert.Equal(2, tasks.Count);
        Assert.All(tasks, t => Assert.Equal(TaskStates.Ready, t.State));
    }

    [Fact]
    public async Task UnknownLine_IsTheFiringsError_AndTheCommandDoesNotRun()
    {
        using var factory = await FactoryAsync("touch ran; cat todo.jsonl", TriggerFormats.Jsonl, line: "nope");
        factory.Time.Advance(TimeSpan.FromHours(18));
        var fired = Assert.Single(await factory.Services.Triggers.TickAsync());
        Assert.Contains("line 'nope' is not in lines.yaml; the command was not run", fired.Error);
        Assert.Empty(await factory.Services.Signals.ListAsync(null));
    }
}

public sealed class TriggerTestsOnSqlite() : TriggerTests(LedgerEngine.Sqlite);

public sealed class TriggerTestsOnPostgreSql() : TriggerTests(LedgerEngine.PostgreSql);
