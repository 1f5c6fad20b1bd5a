using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using static FactoryMcp.Tests.Human.HumanMcp;

namespace FactoryMcp.Tests.Human;

/// <summary>What a human reads over MCP: tasks and runs with filters and cursors, signals, feedback, agents.</summary>
public abstract class HumanReadTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task ListTasks_FiltersByStateTextAndAgent_AndPagesWithTheCursor()
    {
        using var factory = await CreateFactoryAsync();
        var human = TestFactory.Human;
        var alpha = await factory.Services.Intake.ProposeAsync(human, PacketText.Simple("Alpha totals fix"));
        await factory.Services.Intake.ProposeAsync(human, PacketText.Simple("Beta totals fix"));
        await factory.Services.Intake.ProposeAsync(human, PacketText.Simple("Gamma logging"));
        await factory.Services.Intake.ApproveAsync(human, alpha.Id);
        var builder = await factory.BuilderAsync("codex-1");
        await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        await using var mcp = await ConnectAsync(factory);

        var running = await OkAsync(mcp, "list_tasks", new() { ["state"] = "running" });
        Assert.Equal(
            [alpha.Id],
            running.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("task_id").GetInt64())
        );
        var byAgent = await OkAsync(mcp, "list_tasks", new() { ["agent"] = "codex-1" });
        Assert.Single(byAgent.GetProperty("tasks").EnumerateArray());
        var runs = await OkAsync(mcp, "list_tasks", new() { ["runs"] = true, ["agent"] = "codex-1" });
        var run = Assert.Single(runs.GetProperty("runs").EnumerateArray());
        Assert.Equal(alpha.Id, run.GetProperty("task_id").GetInt64());

        var first = await OkAsync(mcp, "list_tasks", new() { ["text"] = "TOTALS", ["limit"] = 1 });
        var page1 = Assert.Single(first.GetProperty("tasks").EnumerateArray());
        Assert.Equal("Beta totals fix", page1.GetProperty("title").GetString());
        var cursor = first.GetProperty("next_cursor").GetInt64();
        var second = await OkAsync(
            mcp,
            "list_tasks",
            new()
            {
                ["text"] = "totals",
                ["limit"] = 1,
                ["cursor"] = cursor,
            }
        );
        Assert.Equal(
            "Alpha totals fix",
            Assert.Single(second.GetProperty("tasks").EnumerateArray()).GetProperty("title").GetString()
        );

        var none = await OkAsync(mcp, "list_tasks", new() { ["since"] = "2999-01-01T00:00:00Z" });
        Assert.Empty(none.GetProperty("tasks").EnumerateArray());
        var bad = await mcp.CallAsync("list_tasks", new() { ["state"] = "flying" });
        Assert.True(bad.IsError);
        Assert.Contains("not a task state", Text(bad));
    }

    [Fact]
    public async Task ListRecords_Signals_ShowsOutcomeAndPossibleDuplicates_AndDismissCloses()
    {
        using var factory = await CreateFactoryAsync();
        await using var mcp = await ConnectAsync(factory);
        await OkAsync(
            mcp,
            "ingest_signals",
            new()
            {
                ["format"] = "jsonl",
                ["content"] = """
                {"source":"sentry","id":"A","title":"Invoice totals round half down wrongly"}
                {"source":"sentry","id":"B","title":"Invoice totals round half down incorrectly"}
                {"source":"sentry","id":"C","title":"Dark mode toggle missing"}
                """,
            }
        );
        var flagged = await OkAsync(mcp, "list_records", new() { ["kind"] = "signals", ["duplicates"] = true });
        var signal = Assert.Single(flagged.GetProperty("signals").EnumerateArray());
        Assert.Equal("sentry:B", signal.GetProperty("key").GetString());
        var duplicate = Assert.Single(signal.GetProperty("duplicates").EnumerateArray());
        Assert.Equal("signal", duplicate.GetProperty("kind").GetString());
        Assert.True(duplicate.GetProperty("similarity").GetDouble() >= 0.5);

        var dismissed = await OkAsync(
            mcp,
            "dismiss_signal",
            new() { ["signal_id"] = signal.GetProperty("signal_id").GetInt64(), ["reason"] = "same as A" }
        );
        Assert.Equal("dismissed", dismissed.GetProperty("status").GetString());
        var closed = await OkAsync(mcp, "list_records", new() { ["kind"] = "signals", ["status"] = "dismissed" });
        Assert.Contains(
            "same as A",
            Assert.Single(closed.GetProperty("signals").EnumerateArray()).GetProperty("reason").GetString()
        );
        var again = await mcp.CallAsync(
            "dismiss_signal",
            new() { ["signal_id"] = signal.GetProperty("signal_id").GetInt64(), ["reason"] = "x" }
        );
        Assert.True(again.IsError);
        Assert.Contains("already dismissed", Text(again));
    }

    [Fact]
    public async Task ListRecords_Feedback_ListsWhatWaitsForPromotion_UntilPromoted()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        await using (var agent = await InMemoryMcp.ConnectAsync(factory, builder))
            Ok(
                await agent.CallAsync(
                    "record_evidence",
                    new()
                    {
                        ["run_id"] = view.RunId,
                        ["kind"] = "post_run_note",
                        ["summary"] = "Run the linter before declaring",
                    }
                )
            );
        await using var mcp = await ConnectAsync(factory);
        var waiting = await OkAsync(mcp, "list_records", new() { ["kind"] = "feedback", ["text"] = "linter" });
        var feedback = Assert.Single(waiting.GetProperty("feedback").EnumerateArray());
        Assert.Equal("builder-1", feedback.GetProperty("author").GetString());

        await OkAsync(
            mcp,
            "promote_lesson",
            new() { ["feedback_id"] = feedback.GetProperty("feedback_id").GetInt64() }
        );
        var after = await OkAsync(mcp, "list_records", new() { ["kind"] = "feedback" });
        Assert.Empty(after.GetProperty("feedback").EnumerateArray());
        var lessons = await OkAsync(mcp, "list_records", new() { ["kind"] = "lessons" });
        Assert.Contains(
            "linter",
            Assert.Single(lessons.GetProperty("lessons").EnumerateArray()).GetProperty("text").GetString()
        );
    }

    [Fact]
    public async Task ListRecords_Agents_ShowsPoolsAndUtilization()
    {
        using var factory = await CreateFactoryAsync();
        await factory.Services.Agents.AddAsync("cli", "fast-1", Roles.Agent, null, ["fast"]);
        await factory.Services.Agents.AddAsync("cli", "fast-2", Roles.Agent, null, ["fast"]);
        await factory.ApprovedTaskAsync();
        await factory.Services.Packets.GetTaskPacketAsync(await factory.BuilderAsync("fast-1"), null, false);
        await using var mcp = await ConnectAsync(factory);
        var agents = await OkAsync(mcp, "list_records", new() { ["kind"] = "agents", ["since"] = "7d" });
        var pool = Assert.Single(agents.GetProperty("pools").EnumerateArray());
        Assert.Equal("fast", pool.GetProperty("pool").GetString());
        Assert.Equal(
            ["fast-1", "fast-2"],
            pool.GetProperty("members").EnumerateArray().Select(m => m.GetString()).Order()
        );
        Assert.Equal(1, pool.GetProperty("busy").GetInt32());
        var busy = agents
            .GetProperty("agents")
            .EnumerateArray()
            .Single(a => a.GetProperty("name").GetString() == "fast-1");
        Assert.Equal(1, busy.GetProperty("open_runs").GetInt64());

        await OkAsync(mcp, "revoke_agent", new() { ["name"] = "fast-2" });
        var after = await OkAsync(mcp, "list_records", new() { ["kind"] = "agents" });
        var revoked = after
            .GetProperty("agents")
            .EnumerateArray()
            .Single(a => a.GetProperty("name").GetString() == "fast-2");
        Assert.Equal(AgentActivity.RevokedStatus, revoked.GetProperty("status").GetString());
    }
}

public sealed class HumanReadTestsOnSqlite() : HumanReadTests(LedgerEngine.Sqlite);

public sealed class HumanReadTestsOnPostgreSql() : HumanReadTests(LedgerEngine.PostgreSql);
