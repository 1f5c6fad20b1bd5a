using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

/// <summary>Who gets which task: own queue, then pools, then anyone; priority with aging; hand-offs and human retargeting.</summary>
public abstract class DispatchTests(LedgerEngine engine) : EngineTests(engine)
{
    private static string Packet(string title, int priority) =>
        PacketText.Simple(title).Replace("priority: 1", $"priority: {priority}");

    private static async Task<TaskRow> ApprovedAsync(
        TestFactory factory,
        string title,
        int priority,
        string? target = null
    )
    {
        var task = await factory.Services.Intake.ProposeAsync(
            TestFactory.Human,
            Packet(title, priority),
            target: target
        );
        return await factory.Services.Intake.ApproveAsync(TestFactory.Human, task.Id);
    }

    private static async Task<Caller> MemberAsync(TestFactory factory, string name, params string[] pools)
    {
        await factory.Services.Agents.AddAsync(TestFactory.Human.Actor, name, Roles.Agent, null, pools);
        return await factory.BuilderAsync(name);
    }

    [Fact]
    public async Task Claim_TakesOwnQueueFirst_ThenPools_ThenAnyone_WhateverThePriority()
    {
        using var factory = await CreateFactoryAsync();
        var builder = await MemberAsync(factory, "b1", "billing");
        var anyone = await ApprovedAsync(factory, "For anyone", 0);
        var pool = await ApprovedAsync(factory, "For the pool", 4, "pool:billing");
        var own = await ApprovedAsync(factory, "For b1", 9, "b1");

        var order = new List<long>();
        for (var i = 0; i < 3; i++)
            order.Add((await factory.Services.Claims.ClaimAsync(builder, newRun: true)).Task!.Id);

        Assert.Equal([own.Id, pool.Id, anyone.Id], order);
    }

    [Fact]
    public async Task Claim_PoolAndOwnWork_IsNotOfferedToOthers()
    {
        using var factory = await CreateFactoryAsync();
        await MemberAsync(factory, "b1", "billing");
        await ApprovedAsync(factory, "For the pool", 0, "pool:billing");
        await ApprovedAsync(factory, "For b1", 0, "b1");
        var outsider = await MemberAsync(factory, "outsider", "web");

        var outcome = await factory.Services.Claims.ClaimAsync(outsider, newRun: false);

        Assert.Equal(ClaimOutcome.Empty, outcome.Status);
        Assert.Equal(2, (await factory.Services.Tasks.ListAsync(TaskStates.Ready, null, null, 10)).Count);
    }

    [Fact]
    public async Task Claim_SamePriority_TakesTheOldestFirst()
    {
        using var factory = await CreateFactoryAsync();
        var first = await ApprovedAsync(factory, "First", 3);
        factory.Time.Advance(TimeSpan.FromMinutes(1));
        await ApprovedAsync(factory, "Second", 3);

        var outcome = await factory.Services.Claims.ClaimAsync(await factory.BuilderAsync(), newRun: false);

        Assert.Equal(first.Id, outcome.Task!.Id);
    }

    [Fact]
    public async Task Claim_Aging_LetsLongWaitingLowPriorityWorkOvertakeNewUrgentWork()
    {
        using var factory = await CreateFactoryAsync();
        var builder = await factory.BuilderAsync();
        var old = await ApprovedAsync(factory, "Old and unimportant", 9);
        factory.Time.Advance(TimeSpan.FromHours(6 * 9 + 1));
        var urgent = await ApprovedAsync(factory, "New and urgent", 0);

        var outcome = await factory.Services.Claims.ClaimAsync(builder, newRun: false);

        // Without aging the urgent task would always win; after 9 aging steps the old one ties and, being older, goes first.
        Assert.Equal(old.Id, outcome.Task!.Id);
        Assert.NotEqual(urgent.Id, outcome.Task!.Id);
    }

    [Fact]
    public async Task Claim_BeforeAgingCatchesUp_UrgentWorkStillGoesFirst()
    {
        using var factory = await CreateFactoryAsync();
        var builder = await factory.BuilderAsync();
        await ApprovedAsync(factory, "Old and unimportant", 9);
        factory.Time.Advance(TimeSpan.FromHours(6 * 8));
        var urgent = await ApprovedAsync(factory, "New and urgent", 0);

        var outcome = await factory.Services.Claims.ClaimAsync(builder, newRun: false);

        Assert.Equal(urgent.Id, outcome.Task!.Id);
    }

    [Fact]
    public async Task Claim_WhileHoldingARun_ResumesIt_AndNewOpensASecond()
    {
        using var factory = await CreateFactoryAsync();
        await ApprovedAsync(factory, "One", 1);
        await ApprovedAsync(factory, "Two", 1);
        var builder = await factory.BuilderAsync();
        var first = await factory.Services.Claims.ClaimAsync(builder, newRun: false);
        var again = await factory.Services.Claims.ClaimAsync(builder, newRun: false);
        Assert.Equal(ClaimOutcome.Resumed, again.Status);
        Assert.Equal(first.Run!.Id, again.Run!.Id);
        Assert.Single(await factory.Services.Tasks.ListAsync(TaskStates.Ready, null, null, 10));

        var second = await factory.Services.Claims.ClaimAsync(builder, newRun: true);
        Assert.Equal(ClaimOutcome.Claimed, second.Status);
        Assert.Empty(await factory.Services.Tasks.ListAsync(TaskStates.Ready, null, null, 10));
    }

    [Fact]
    public async Task HandOff_OfATaskTheCallerDoesNotHold_IsRefused_AndChangesNothing()
    {
        using var factory = await CreateFactoryAsync();
        var task = await ApprovedAsync(factory, "Held by owner", 1);
        var owner = await factory.BuilderAsync("owner");
        var run = (await factory.Services.Packets.GetTaskPacketAsync(owner, null, false)).RunId!.Value;
        var thief = await factory.BuilderAsync("thief");

        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Claims.HandOffAsync(thief, task.Id, "thief", null)
        );

        Assert.Contains("only the task it holds", e.Message);
        Assert.Equal(RunStates.Open, (await factory.Services.Runs.GetAsync(run)).State);
        Assert.Equal(TaskStates.Running, (await factory.Services.Tasks.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task HandOff_ToAnUnknownTarget_IsRefused_AndTheRunStaysOpen()
    {
        using var factory = await CreateFactoryAsync();
        var task = await ApprovedAsync(factory, "Held", 1);
        var owner = await factory.BuilderAsync("owner");
        var run = (await factory.Services.Packets.GetTaskPacketAsync(owner, null, false)).RunId!.Value;

        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Claims.HandOffAsync(owner, task.Id, "nobody", null)
        );

        Assert.Contains("no registered agent 'nobody'", e.Message);
        Assert.Equal(RunStates.Open, (await factory.Services.Runs.GetAsync(run)).State);
    }

    [Fact]
    public async Task HandOff_AfterTheLeaseExpired_IsRefusedSayingSo()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 0.25"));
        var owner = await factory.BuilderAsync("owner");
        await factory.BuilderAsync("other");
        await factory.Services.Packets.GetTaskPacketAsync(owner, null, false);
        factory.Time.Advance(TimeSpan.FromSeconds(16));

        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Claims.HandOffAsync(owner, task.Id, "other", null)
        );

        Assert.Contains("lease expired", e.Message);
    }

    [Fact]
    public async Task Retarget_ByAHuman_MovesQueuedWorkToAnotherPool_KeepingItsAge()
    {
        using var factory = await CreateFactoryAsync();
        var web = await MemberAsync(factory, "w1", "web");
        await MemberAsync(factory, "b1", "billing");
        var task = await ApprovedAsync(factory, "Misrouted", 5, "pool:billing");
        Assert.Equal(ClaimOutcome.Empty, (await factory.Services.Claims.ClaimAsync(web, false)).Status);
        factory.Time.Advance(TimeSpan.FromHours(1));
        var fresh = await ApprovedAsync(factory, "Fresh web work", 5, "pool:web");

        var (row, from) = await factory.Services.Tasks.RetargetAsync(TestFactory.Human, task.Id, "pool:web");

        Assert.Equal("pool:web", row.Target);
        Assert.Equal("pool:billing", from);
        var outcome = await factory.Services.Claims.ClaimAsync(web, false);
        Assert.Equal(task.Id, outcome.Task!.Id); // older than the fresh task of the same priority
        Assert.NotEqual(fresh.Id, outcome.Task!.Id);
    }

    [Fact]
    public async Task Retarget_ByABuilder_IsRefused()
    {
        using var factory = await CreateFactoryAsync();
        var task = await ApprovedAsync(factory, "Queued", 1);
        var builder = await factory.BuilderAsync();
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Tasks.RetargetAsync(builder, task.Id, "pool:x")
        );
        Assert.Contains("Only a human retargets", e.Message);
        Assert.Null((await factory.Services.Tasks.GetAsync(task.Id)).Target);
    }

    [Fact]
    public async Task Retarget_OfATaskSomeoneHolds_IsRefused_NamingTheHolder()
    {
        using var factory = await CreateFactoryAsync();
        var task = await ApprovedAsync(factory, "Held", 1);
        var owner = await factory.BuilderAsync("owner");
        await factory.BuilderAsync("other");
        await factory.Services.Claims.ClaimAsync(owner, false);

        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Tasks.RetargetAsync(TestFactory.Human, task.Id, "other")
        );

        Assert.Contains("of owner", e.Message);
        Assert.Null((await factory.Services.Tasks.GetAsync(task.Id)).Target);
    }

    [Fact]
    public async Task Retarget_ToAnUnknownAgent_IsRefused_AndToAnyone_ClearsTheTarget()
    {
        using var factory = await CreateFactoryAsync();
        await factory.BuilderAsync("b1");
        var task = await ApprovedAsync(factory, "Queued", 1, "b1");
        await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Tasks.RetargetAsync(TestFactory.Human, task.Id, "ghost")
        );
        Assert.Equal("agent:b1", (await factory.Services.Tasks.GetAsync(task.Id)).Target);

        await factory.Services.Tasks.RetargetAsync(TestFactory.Human, task.Id, "anyone");

        var other = await factory.BuilderAsync("b2");
        Assert.Equal(task.Id, (await factory.Services.Claims.ClaimAsync(other, false)).Task!.Id);
    }

    [Fact]
    public async Task Activity_ShowsOpenRuns_BusyTime_Utilization_AndIdleBuilders()
    {
        using var factory = await CreateFactoryAsync();
        await ApprovedAsync(factory, "Work", 1);
        var busy = await factory.BuilderAsync("busy-1");
        var idle = await factory.BuilderAsync("idle-1");
        await factory.BuilderAsync("away-1");
        await factory.Services.Claims.ClaimAsync(busy, false);
        await factory.Services.Claims.ClaimAsync(idle, false); // asks, finds nothing: seen but idle
        factory.Time.Advance(TimeSpan.FromHours(6));

        var rows = (await factory.Services.Agents.ActivityAsync(TimeSpan.FromHours(24))).ToDictionary(a =>
            a.Agent.Name
        );

        Assert.Equal(AgentActivity.BusyStatus, rows["busy-1"].Status);
        Assert.Equal(1, rows["busy-1"].OpenRuns);
        Assert.Equal(TimeSpan.FromHours(6), rows["busy-1"].Busy);
        Assert.Equal(0.25, rows["busy-1"].Utilization, 3);
        Assert.Equal(AgentActivity.IdleStatus, rows["idle-1"].Status);
        Assert.Equal(TimeSpan.Zero, rows["idle-1"].Busy);
        Assert.Equal(AgentActivity.AwayStatus, rows["away-1"].Status);
    }
}

public sealed class DispatchTestsOnSqlite() : DispatchTests(LedgerEngine.Sqlite);

public sealed class DispatchTestsOnPostgreSql() : DispatchTests(LedgerEngine.PostgreSql);
