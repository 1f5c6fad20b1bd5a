using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using static FactoryMcp.Tests.Human.HumanMcp;

namespace FactoryMcp.Tests.Human;

/// <summary>enqueue_for_agent as a human calls it: propose and approve, retarget, dispatch a spec job.</summary>
public abstract class HumanDispatchTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task EnqueueForAgent_HumanPacketWithApprove_QueuesTheTaskForTheTarget()
    {
        using var factory = await CreateFactoryAsync();
        await factory.BuilderAsync("codex-1");
        await using var mcp = await ConnectAsync(factory);
        var result = await OkAsync(
            mcp,
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "codex-1",
                ["packet"] = PacketText.Simple("Queue this for codex"),
                ["approve"] = true,
            }
        );
        var task = await factory.Services.Tasks.GetAsync(result.GetProperty("task_id").GetInt64());
        Assert.Equal("ready", task.State);
        Assert.Equal("agent:codex-1", task.Target);
        Assert.Equal("human", task.AuthorRole);
        Assert.Equal(40, result.GetProperty("base_sha").GetString()!.Length);
    }

    [Fact]
    public async Task EnqueueForAgent_HumanTaskId_RetargetsAProposalToAPool()
    {
        using var factory = await CreateFactoryAsync();
        await factory.Services.Agents.AddAsync("cli", "fast-1", Roles.Agent, null, ["fast"]);
        await using var mcp = await ConnectAsync(factory);
        var proposed = await OkAsync(
            mcp,
            "enqueue_for_agent",
            new() { ["target_agent"] = "anyone", ["packet"] = PacketText.Simple("Retarget me") }
        );
        var taskId = proposed.GetProperty("task_id").GetInt64();
        Assert.Equal("proposed", proposed.GetProperty("state").GetString());

        var moved = await OkAsync(
            mcp,
            "enqueue_for_agent",
            new() { ["target_agent"] = "pool:fast", ["task_id"] = taskId }
        );
        Assert.Equal("pool:fast", moved.GetProperty("target").GetString());
        Assert.Equal("pool:fast", (await factory.Services.Tasks.GetAsync(taskId)).Target);

        var both = await mcp.CallAsync(
            "enqueue_for_agent",
            new()
            {
                ["target_agent"] = "pool:fast",
                ["task_id"] = taskId,
                ["packet"] = PacketText.Simple(),
            }
        );
        Assert.True(both.IsError);
        Assert.Contains("exactly one of", Text(both));
    }

    [Fact]
    public async Task EnqueueForAgent_HumanSignalId_DispatchesASpecJob()
    {
        using var factory = await CreateFactoryAsync();
        await factory.BuilderAsync("spec-1");
        await using var mcp = await ConnectAsync(factory);
        var ingested = await OkAsync(
            mcp,
            "ingest_signals",
            new()
            {
                ["format"] = "jsonl",
                ["content"] = """{"source":"sentry","id":"E1","title":"Checkout page crashes on empty cart"}""",
            }
        );
        var signalId = ingested.GetProperty("signals")[0].GetProperty("signal_id").GetInt64();

        var job = await OkAsync(
            mcp,
            "enqueue_for_agent",
            new() { ["target_agent"] = "spec-1", ["signal_id"] = signalId }
        );
        var task = await factory.Services.Tasks.GetAsync(job.GetProperty("task_id").GetInt64());
        Assert.Equal("spec", task.Line);
        Assert.Equal(signalId, task.SignalId);
        Assert.Equal("agent:spec-1", task.Target);
        Assert.Equal("spec", (await factory.Services.Signals.GetAsync(signalId)).Status);
    }
}

public sealed class HumanDispatchTestsOnSqlite() : HumanDispatchTests(LedgerEngine.Sqlite);

public sealed class HumanDispatchTestsOnPostgreSql() : HumanDispatchTests(LedgerEngine.PostgreSql);
