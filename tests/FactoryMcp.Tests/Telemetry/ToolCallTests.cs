using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>
/// The record of tool calls on runs (migration 0016): queued in memory, written in batches, capped per run,
/// dropped for runs the ledger does not have, deleted by gc, and drawn on the run timeline. On both engines.
/// </summary>
public abstract class ToolCallTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task QueuedCalls_AreWrittenOnFlush_TheLastPerRunKept_AndDrawnOnTheTimeline_ARefusalMarked()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var runId = (await factory.Services.Packets.GetTaskPacketAsync(builder, null, false)).RunId!.Value;
        var log = factory.Services.ToolCalls;
        var opened = factory.Time.GetUtcNow();
        var extra = 5;
        for (var i = 0; i < ToolCallLedger.PerRun + extra; i++)
            log.Add(new ToolCallRecord(runId, $"tool_{i}", "builder-1", opened.AddSeconds(i), 250, null));
        log.Add(
            new ToolCallRecord(
                runId,
                "record_evidence",
                "<b>builder</b>",
                opened.AddSeconds(ToolCallLedger.PerRun + extra),
                40,
                "tool_error"
            )
        );
        log.Add(new ToolCallRecord(runId + 1000, "get_run_status", "builder-1", opened, 1, null));

        Assert.Equal(0L, await factory.Services.ToolCallRecords.CountAsync(runId));
        await log.FlushAsync();

        Assert.Equal((long)ToolCallLedger.PerRun, await factory.Services.ToolCallRecords.CountAsync(runId));
        Assert.Equal(0L, await factory.Services.ToolCallRecords.CountAsync(runId + 1000));
        var tools = (await factory.Services.Timeline.ForRunAsync(runId)).Where(e => e.Kind == "tool").ToList();
        Assert.Equal(ToolCallLedger.PerRun, tools.Count);
        // The oldest were trimmed: the first kept is the one after the extra ones, plus the refusal at the end.
        Assert.DoesNotContain(tools, t => t.Label.StartsWith("tools/call tool_0 ", StringComparison.Ordinal));
        Assert.DoesNotContain(tools, t => t.Label.StartsWith($"tools/call tool_{extra} ", StringComparison.Ordinal));
        Assert.Contains(tools, t => t.Label == $"tools/call tool_{extra + 1} by builder-1" && !t.Refused);
        var ok = tools.First(t => !t.Refused);
        Assert.Equal(TimeSpan.FromMilliseconds(250), ok.Duration);
        var refused = Assert.Single(tools, t => t.Refused);
        Assert.Equal("tools/call record_evidence by <b>builder</b> refused (tool_error)", refused.Label);
        Assert.Equal(opened.AddSeconds(ToolCallLedger.PerRun + extra), refused.Start);
        Assert.Equal(TimeSpan.FromMilliseconds(40), refused.Duration);

        // gc deletes them with the run's workspace.
        Assert.Equal(ToolCallLedger.PerRun, await factory.Services.ToolCallRecords.DeleteForRunsAsync([runId]));
        Assert.Equal(0L, await factory.Services.ToolCallRecords.CountAsync(runId));
    }

    [Fact]
    public async Task TheFlushLoop_WritesWithinAboutASecond_AndOnceMoreWhenStopped()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var runId = (await factory.Services.Packets.GetTaskPacketAsync(builder, null, false)).RunId!.Value;
        var log = factory.Services.ToolCalls;
        using var stop = new CancellationTokenSource();
        var loop = log.RunAsync(stop.Token);

        log.Add(new ToolCallRecord(runId, "get_run_status", "builder-1", factory.Time.GetUtcNow(), 3, null));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await factory.Services.ToolCallRecords.CountAsync(runId) == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(1L, await factory.Services.ToolCallRecords.CountAsync(runId));

        log.Add(new ToolCallRecord(runId, "record_evidence", "builder-1", factory.Time.GetUtcNow(), 3, null));
        await stop.CancelAsync();
        await loop;
        Assert.Equal(2L, await factory.Services.ToolCallRecords.CountAsync(runId));
    }
}

public sealed class ToolCallTestsOnSqlite() : ToolCallTests(LedgerEngine.Sqlite);

public sealed class ToolCallTestsOnPostgreSql() : ToolCallTests(LedgerEngine.PostgreSql);
