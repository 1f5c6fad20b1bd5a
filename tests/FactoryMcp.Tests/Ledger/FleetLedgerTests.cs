using System.Collections.Concurrent;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Fleet;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

/// <summary>The fleet registry (heartbeats on the ledger's clock, lost, stopped, retention, queues per line) and job NOTIFYs.</summary>
public abstract class FleetLedgerTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task Process_IsAliveWhileItBeats_LostAfterThreeSilentPeriods_StoppedWhenItSaysSo()
    {
        using var factory = await CreateFactoryAsync();
        var fleet = factory.Services.Fleet;
        await fleet.RegisterAsync("host:1:a", FleetLedger.Worker, "1.2.3", true, TimeSpan.FromSeconds(10));
        await fleet.RegisterAsync("host:2:b", FleetLedger.Server, "1.2.3", false, TimeSpan.FromSeconds(10));
        Assert.All((await fleet.ViewAsync()).Processes, p => Assert.Equal("alive", p.State));

        factory.Time.Advance(TimeSpan.FromSeconds(25));
        Assert.True(await fleet.HeartbeatAsync("host:1:a", 1, 4));
        factory.Time.Advance(TimeSpan.FromSeconds(6)); // b silent for 31 s > 3 x 10 s; a beat 6 s ago
        var view = await fleet.ViewAsync();
        var a = view.Processes.Single(p => p.Id == "host:1:a");
        Assert.Equal(("alive", 1L, 4L, "worker", true), (a.State, a.JobsRunning, a.JobsDone, a.Role, a.Validates));
        Assert.Equal("lost", view.Processes.Single(p => p.Id == "host:2:b").State);
        Assert.Equal("host:1:a", view.Processes[0].Id); // alive first

        await fleet.StopAsync("host:1:a", 0, 5);
        Assert.Equal("stopped", (await fleet.ViewAsync()).Processes.Single(p => p.Id == "host:1:a").State);
        Assert.False(await fleet.HeartbeatAsync("host:9:z", 0, 0)); // never registered: it registers again
        await Assert.ThrowsAsync<FactoryMcp.Ledger.LedgerException>(() =>
            fleet.RegisterAsync("host:3:c", "janitor", "1", true, TimeSpan.FromSeconds(1))
        );
    }

    [Fact]
    public async Task RowsOfProcessesGoneForAWeek_AreDeletedWhenAProcessRegisters()
    {
        using var factory = await CreateFactoryAsync();
        var fleet = factory.Services.Fleet;
        await fleet.RegisterAsync("old:1:a", FleetLedger.Worker, "1", true, TimeSpan.FromSeconds(10));
        factory.Time.Advance(FleetLedger.Retention - TimeSpan.FromMinutes(1));
        await fleet.RegisterAsync("new:1:b", FleetLedger.Worker, "1", true, TimeSpan.FromSeconds(10));
        Assert.Equal(2, (await fleet.ViewAsync()).Processes.Count); // lost, but not for a week yet
        factory.Time.Advance(TimeSpan.FromMinutes(2));
        await fleet.RegisterAsync("new:1:b", FleetLedger.Worker, "1", true, TimeSpan.FromSeconds(10));
        Assert.Equal(["new:1:b"], (await fleet.ViewAsync()).Processes.Select(p => p.Id));
    }

    [Fact]
    public async Task Queues_AreCountedPerLine_TasksWaitingAndValidations()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.Factory.ApprovedTaskAsync(
            GateHarness.Packet().Replace("Greeting says hello world", "Farewell says goodbye")
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        Assert.Equal(
            "validating",
            (
                await gate.Factory.Services.Gate.DeclareAsync(
                    gate.Builder,
                    new DeclarationInput(gate.RunId, "PR_READY", "done")
                )
            ).Outcome
        );
        var queue = Assert.Single((await gate.Factory.Services.Fleet.ViewAsync()).Queues);
        Assert.Equal(new LineQueue("bugfix", 1, 1, 0), queue);
        await gate.Factory.Services.ValidationJobs.ClaimAsync("w", TimeSpan.FromSeconds(30));
        Assert.Equal(
            new LineQueue("bugfix", 1, 0, 1),
            Assert.Single((await gate.Factory.Services.Fleet.ViewAsync()).Queues)
        );
    }

    [Fact]
    public async Task ValidationJob_NotifiesOncePerStateChange_AndNeverForLeaseRenewalsOrEvidence()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        var heard = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var listener = gate.Factory.Services.Db.ListenAsync(
            ValidationJobLedger.Channel,
            heard.Enqueue,
            e =>
            {
                if (e is null)
                    listening.TrySetResult();
            },
            stop.Token
        );
        if (Engine == LedgerEngine.PostgreSql)
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        else
            Assert.True(listener.IsCompleted); // SQLite has nothing to listen to: its processes poll

        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.Factory.Services.Gate.DeclareAsync(
            gate.Builder,
            new DeclarationInput(gate.RunId, "PR_READY", "done")
        );
        var jobs = gate.Factory.Services.ValidationJobs;
        var job = (await jobs.ClaimAsync("w", TimeSpan.FromSeconds(30)))!;
        for (var i = 0; i < 3; i++)
            Assert.True(await jobs.HeartbeatAsync(job.Id, "w", job.Starts, $"step {i}", TimeSpan.FromSeconds(30)));
        Assert.NotNull(await jobs.CompleteAsync(job.Id, "w", job.Starts, null, [], []));

        string[] expected =
            Engine == LedgerEngine.PostgreSql ? [$"{job.Id}:queued", $"{job.Id}:running", $"{job.Id}:accepted"] : [];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (heard.Count < expected.Length && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        await Task.Delay(300); // nothing more may follow
        await stop.CancelAsync();
        await listener;
        Assert.Equal(expected, heard.ToArray());
    }
}

public sealed class FleetLedgerTestsOnSqlite() : FleetLedgerTests(LedgerEngine.Sqlite);

public sealed class FleetLedgerTestsOnPostgreSql() : FleetLedgerTests(LedgerEngine.PostgreSql);
