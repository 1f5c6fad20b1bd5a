using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

public sealed class GarbageCollectorTests
{
    [Fact]
    public async Task Gc_ReclaimsEndedTasksWorkspacesAfterKeepDays_NeverALiveRun_AndDryRunDeletesNothing()
    {
        using var gate = await GateHarness.CreateAsync(lines: "bugfix:\n  keep_days: 2\n");
        var f = gate.Factory.Services;
        await f.Intake.CancelAsync(TestFactory.Human, gate.TaskId, "done with it");
        Directory.CreateDirectory(gate.Workspace); // cancel freed it; recreate to prove gc decides by the ledger, not by luck
        await File.WriteAllTextAsync(Path.Combine(gate.Workspace, "left.txt"), "x");
        await gate.Factory.ApprovedTaskAsync(GateHarness.Packet().Replace("Greeting says hello world", "Live one"));
        var live = await f.Packets.GetTaskPacketAsync(await gate.Factory.BuilderAsync("live-builder"), null, false);
        var now = gate.Factory.Time.GetUtcNow();
        f.ToolCalls.Add(new(gate.RunId, "record_evidence", "builder-1", now, 5, null));
        f.ToolCalls.Add(new(live.RunId!.Value, "get_task_packet", "live-builder", now, 5, null));
        await f.ToolCalls.FlushAsync();

        var early = await f.Collector().CollectAsync(dryRun: false);
        Assert.Empty(early.Removed);

        gate.Factory.Time.Advance(TimeSpan.FromDays(3));
        var dry = await f.Collector().CollectAsync(dryRun: true);
        Assert.Single(dry.Removed);
        Assert.True(Directory.Exists(gate.Workspace));
        Assert.Equal(1L, await f.ToolCallRecords.CountAsync(gate.RunId));

        var real = await f.Collector().CollectAsync(dryRun: false);
        Assert.Equal(gate.Workspace, Assert.Single(real.Removed).Path);
        Assert.False(Directory.Exists(gate.Workspace));
        Assert.True(Directory.Exists(live.Workspace));
        // The tool calls of the collected run go with its workspace; the live run keeps its own.
        Assert.Equal(0L, await f.ToolCallRecords.CountAsync(gate.RunId));
        Assert.Equal(1L, await f.ToolCallRecords.CountAsync(live.RunId!.Value));
    }
}
