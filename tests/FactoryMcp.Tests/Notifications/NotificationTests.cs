using System.Text.Json;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Notifications;

/// <summary>notifications: in factory.yaml, fired after the ledger committed, exactly once per escalation.</summary>
public sealed class NotificationTests
{
    private static async Task<long> ClaimAsync(InMemoryMcp agent) =>
        (await agent.CallAsync("get_task_packet", [])).StructuredContent!.Value.GetProperty("run_id").GetInt64();

    [Fact]
    public async Task Escalation_IsPostedToTheConfiguredUrl_Once()
    {
        await using var listener = await LocalListener.StartAsync();
        using var factory = await TestFactory.CreateAsync();
        await File.WriteAllTextAsync(
            factory.Paths.FactoryConfig,
            $"notifications:\n  escalation: {listener.Url}hook\n"
        );
        var task = await factory.ApprovedTaskAsync();
        await using var agent = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var runId = await ClaimAsync(agent);
        Assert.Empty(listener.Received);

        var declared = await agent.CallAsync(
            "declare_terminal_state",
            new()
            {
                ["run_id"] = runId,
                ["state"] = "ESCALATE",
                ["summary"] = "Spec is ambiguous",
                ["question"] = "Round half-up or half-even?",
            }
        );
        Assert.True(declared.IsError != true);

        var (path, body) = Assert.Single(listener.Received);
        Assert.Equal("/hook", path);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal("escalation", json.GetProperty("event").GetString());
        Assert.Equal(task.Id, json.GetProperty("details").GetProperty("task_id").GetInt64());
        Assert.Equal("Round half-up or half-even?", json.GetProperty("details").GetProperty("question").GetString());

        await agent.CallAsync("get_task_packet", []);
        Assert.Equal(0, await factory.Services.Notifier.FlushEscalationsAsync());
        Assert.Single(listener.Received);
    }

    [Fact]
    public async Task Escalation_RunsTheConfiguredCommand_WithTheEventOnStdin()
    {
        using var factory = await TestFactory.CreateAsync();
        var outFile = Path.Combine(factory.Root, "event.json");
        await File.WriteAllTextAsync(
            factory.Paths.FactoryConfig,
            $"notifications:\n  escalation: cat > '{outFile}'; echo \"$FACTORY_EVENT\" > '{outFile}.type'\n"
        );
        await factory.ApprovedTaskAsync();
        await using var agent = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var runId = await ClaimAsync(agent);
        await agent.CallAsync(
            "declare_terminal_state",
            new()
            {
                ["run_id"] = runId,
                ["state"] = "ESCALATE",
                ["summary"] = "x",
                ["question"] = "Which file format?",
            }
        );

        Assert.Contains("Which file format?", await File.ReadAllTextAsync(outFile));
        Assert.Equal("escalation", (await File.ReadAllTextAsync(outFile + ".type")).Trim());
    }

    [Fact]
    public async Task FailingNotification_IsLoggedAndTheEscalationStands()
    {
        using var factory = await TestFactory.CreateAsync();
        await File.WriteAllTextAsync(factory.Paths.FactoryConfig, "notifications:\n  escalation: exit 3\n");
        var log = new ListLogger();
        factory.Services.Notifier.Logger = log;
        var task = await factory.ApprovedTaskAsync();
        await using var agent = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var runId = await ClaimAsync(agent);
        var declared = await agent.CallAsync(
            "declare_terminal_state",
            new()
            {
                ["run_id"] = runId,
                ["state"] = "ESCALATE",
                ["summary"] = "x",
                ["question"] = "?",
            }
        );
        Assert.True(declared.IsError != true);
        Assert.Equal("escalated", (await factory.Services.Tasks.GetAsync(task.Id)).State);
        var warning = Assert.Single(log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Contains("Notification escalation to", warning.Message);
        Assert.Contains("failed", warning.Message);
        Assert.Contains("exit 3", warning.Message);
    }
}
