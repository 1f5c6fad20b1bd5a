using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Notifications;

/// <summary>
/// Issue 18: a tool call no longer reads the escalation outbox every time. A call that raised an escalation
/// announces it at once; one raised by another process is announced by the first call once
/// <c>Notifier.OthersCheckPeriod</c> has passed since the last look. Not run beside other tests: the count of
/// escalations a process raised is process-wide, so another test escalating during a call here would make that
/// call look (harmless in production, where a spurious look only reads).
/// </summary>
[Collection(Name)]
public sealed class EscalationLookTests
{
    public const string Name = "escalation-look";

    private static readonly string[] None = [];

    [Fact]
    public async Task EscalationOfAnotherProcess_WaitsForThePeriod_OneRaisedByTheCallIsAnnouncedAtOnce()
    {
        using var factory = await TestFactory.CreateAsync();
        var events = Path.Combine(factory.Root, "events.jsonl");
        await File.WriteAllTextAsync(
            factory.Paths.FactoryConfig,
            $"notifications:\n  escalation: printf '%s\\n' \"$FACTORY_EVENT_JSON\" >> '{events}'\n"
        );
        var elsewhere = await factory.ApprovedTaskAsync();
        await factory.ApprovedTaskAsync();
        await using var agent = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var runId = (await agent.CallAsync("get_task_packet", []))
            .StructuredContent!.Value.GetProperty("run_id")
            .GetInt64();
        var notifier = factory.Services.Notifier;
        notifier.OthersCheckPeriod = TimeSpan.FromHours(1);

        // Another process escalates a task: its row is written here without counting as this process's escalation.
        await factory.Services.Db.WriteAsync(
            "agent:elsewhere",
            async w =>
            {
                var id = await w.ScalarAsync<long>(
                    """
                    INSERT INTO escalations (task_id, question, raised_by, raised_at)
                    VALUES (@task, 'Raised elsewhere?', 'agent:elsewhere', @now) RETURNING id
                    """,
                    SqlArgs.Of(new { task = elsewhere.Id, now = w.NowText })
                );
                await w.AuditAsync(
                    "escalation.raised",
                    "escalation",
                    id,
                    new JsonObject { ["task_id"] = elsewhere.Id }
                );
            }
        );
        Task<ModelContextProtocol.Protocol.CallToolResult> Evidence(string summary) =>
            agent.CallAsync(
                "record_evidence",
                new()
                {
                    ["run_id"] = runId,
                    ["kind"] = "log",
                    ["summary"] = summary,
                    ["content"] = "output\n",
                }
            );

        // Within the period a call that raised nothing reads nothing.
        Assert.True((await Evidence("one")).IsError != true);
        Assert.Equal(None, Lines(events));

        // Once the period has passed, the next call looks and announces it.
        notifier.OthersCheckPeriod = TimeSpan.Zero;
        await Evidence("two");
        Assert.Contains("Raised elsewhere?", Assert.Single(Lines(events)));

        // A call that raises an escalation announces it at once, whatever the period.
        notifier.OthersCheckPeriod = TimeSpan.FromHours(1);
        await agent.CallAsync(
            "declare_terminal_state",
            new()
            {
                ["run_id"] = runId,
                ["state"] = "ESCALATE",
                ["summary"] = "stuck",
                ["question"] = "Raised by this call?",
            }
        );
        Assert.Equal(2, Lines(events).Length);
        Assert.Contains("Raised by this call?", Lines(events)[1]);
    }

    private static string[] Lines(string path) => File.Exists(path) ? File.ReadAllLines(path) : None;
}

[CollectionDefinition(EscalationLookTests.Name, DisableParallelization = true)]
public sealed class EscalationLookCollection;
