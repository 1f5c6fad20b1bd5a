using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Gate;

/// <summary>A validation job's lease version is a fencing token: an attempt whose lease was taken over is fenced off.</summary>
public abstract class JobLeaseTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task Job_TakenOverAfterItsLeaseLapsed_OldAttemptCanNeitherRenewNorComplete()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var declared = await gate.Factory.Services.Gate.DeclareAsync(
            gate.Builder,
            new DeclarationInput(gate.RunId, "PR_READY", "done")
        );
        Assert.Equal("validating", declared.Outcome);
        var jobs = gate.Factory.Services.ValidationJobs;
        var lease = TimeSpan.FromSeconds(5);

        // The same owner takes it twice (its first attempt stalled past the lease): only the newest attempt counts.
        var first = (await jobs.ClaimAsync("replica-a", lease))!;
        gate.Factory.Time.Advance(TimeSpan.FromSeconds(6));
        var second = (await jobs.ClaimAsync("replica-a", lease))!;
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.Starts + 1, second.Starts);

        Assert.False(await jobs.HeartbeatAsync(first.Id, "replica-a", first.Starts, "stale", lease));
        Assert.Null(await jobs.CompleteAsync(first.Id, "replica-a", first.Starts, null, ["stale verdict"], []));
        Assert.Equal("running", (await jobs.GetAsync(first.Id)).State);

        Assert.True(await jobs.HeartbeatAsync(second.Id, "replica-a", second.Starts, "testing", lease));
        var result = await jobs.CompleteAsync(second.Id, "replica-a", second.Starts, null, ["a real problem"], []);
        Assert.NotNull(result);
        Assert.Equal("refused", (await jobs.GetAsync(first.Id)).State);
    }
}

public sealed class JobLeaseTestsOnSqlite() : JobLeaseTests(LedgerEngine.Sqlite);

public sealed class JobLeaseTestsOnPostgreSql() : JobLeaseTests(LedgerEngine.PostgreSql);
